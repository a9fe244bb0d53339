namespace Platform.Web.Security;

/// <summary>
/// What one user may do, worked out from their grants (and an API token's scope): the privileges on <c>/</c> and,
/// for each VM with grants of its own, the privileges there. Immutable; <see cref="IPermissionService"/> hands out a
/// fresh one after every change to users, groups, roles or grants.
/// </summary>
public sealed class UserAccess
{
    private readonly IReadOnlyDictionary<Guid, Privileges> _vms;
    private readonly IReadOnlyDictionary<Guid, Privileges> _networks;

    public UserAccess(string? userId, string? userName, Privileges root, IReadOnlyDictionary<Guid, Privileges> vms, bool isActive = true,
        IReadOnlyDictionary<Guid, Privileges>? networks = null)
    {
        IsActive = isActive && userId is not null;
        UserId = userId;
        UserName = userName;
        Root = root;
        _vms = vms;
        _networks = networks ?? new Dictionary<Guid, Privileges>();
    }

    /// <summary>Someone who may do nothing (not signed in, disabled, unknown).</summary>
    public static UserAccess None { get; } = new(null, null, Privileges.None, new Dictionary<Guid, Privileges>());

    public string? UserId { get; }

    /// <summary>A user who exists, is not disabled and has chosen their own password: may stay connected, whatever
    /// their grants (a connection with no grants simply hears nothing).</summary>
    public bool IsActive { get; }

    public string? UserName { get; }

    /// <summary>The privileges granted on <c>/</c>.</summary>
    public Privileges Root { get; }

    /// <summary>The privileges on <paramref name="vmId"/> (a VM's own grants win over <c>/</c>); on <c>/</c> for null.</summary>
    public Privileges On(Guid? vmId) =>
        vmId is { } id && _vms.TryGetValue(id, out var privileges) ? privileges : Root;

    /// <summary>All of <paramref name="privileges"/> on the VM (or on <c>/</c> for null). VM privileges are looked up on
    /// the VM; any other privilege is always looked up on <c>/</c>.</summary>
    public bool Has(Privileges privileges, Guid? vmId = null)
    {
        var vmPart = privileges & Privileges.VmScoped;
        var globalPart = privileges & ~Privileges.VmScoped;
        return (On(vmId) & vmPart) == vmPart && (Root & globalPart) == globalPart;
    }

    /// <summary>Network.Use on <paramref name="networkId"/>: the network's own grants win over <c>/</c>, as a VM's do.</summary>
    public bool CanUseNetwork(Guid networkId) =>
        ((_networks.TryGetValue(networkId, out var privileges) ? privileges : Root) & Privileges.NetworkUse) != 0;

    /// <summary>At least one of <paramref name="privileges"/>, as <see cref="Has"/> looks them up.</summary>
    public bool HasAny(Privileges privileges, Guid? vmId = null) =>
        PrivilegeNames.Split(privileges).Any(p => Has(p, vmId));

    /// <summary>A VM is visible (in lists, by id, in the event log) to whoever has VM.Audit on it.</summary>
    public bool CanSee(Guid vmId) => Has(Privileges.VmAudit, vmId);

    /// <summary>The privilege on <c>/</c> or on at least one VM: whether a page or menu has anything to show.</summary>
    public bool HasAnywhere(Privileges privilege) =>
        (Root & privilege) == privilege || _vms.Values.Concat(_networks.Values).Any(p => (p & privilege) == privilege);

    /// <summary>The union of every privilege this user has somewhere: the most an API token of theirs can carry.</summary>
    public Privileges Anywhere => _vms.Values.Concat(_networks.Values).Aggregate(Root, (all, p) => all | p);

    /// <summary>Which VMs' events and entries this user may see, as a filter the database can apply.</summary>
    public VmVisibility Visibility
    {
        get
        {
            bool byDefault = (Root & Privileges.VmAudit) != 0;
            var exceptions = _vms.Where(kv => ((kv.Value & Privileges.VmAudit) != 0) != byDefault).Select(kv => kv.Key).ToHashSet();
            return new VmVisibility(byDefault, exceptions, (Root & Privileges.SysAudit) != 0);
        }
    }

    /// <summary>This access cut down to <paramref name="scope"/> (an API token's privileges).</summary>
    public UserAccess Restrict(Privileges scope) =>
        new(UserId, UserName, Root & scope, _vms.ToDictionary(kv => kv.Key, kv => kv.Value & scope), IsActive,
            _networks.ToDictionary(kv => kv.Key, kv => kv.Value & scope));
}

/// <summary>
/// Which VMs someone may see: every VM except <see cref="Exceptions"/> when <see cref="ByDefault"/>, else only the
/// exceptions; <see cref="HostEvents"/> says whether entries about no VM in particular are visible.
/// </summary>
public sealed record VmVisibility(bool ByDefault, IReadOnlySet<Guid> Exceptions, bool HostEvents)
{
    public static VmVisibility Everything { get; } = new(true, new HashSet<Guid>(), true);

    public bool CanSee(Guid? vmId) => vmId is { } id ? ByDefault != Exceptions.Contains(id) : HostEvents;
}
