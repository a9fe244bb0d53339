namespace Platform.Web.Security;

/// <summary>
/// The roles every installation has (seeded by the migration with these ids; they cannot be edited or deleted).
/// Custom roles are added beside them.
/// </summary>
public static class BuiltInRoles
{
    public static readonly Guid AdministratorId = new("00000000-0000-0000-0000-0000000000a1");
    public static readonly Guid VmAdminId = new("00000000-0000-0000-0000-0000000000a2");
    public static readonly Guid VmUserId = new("00000000-0000-0000-0000-0000000000a3");
    public static readonly Guid AuditorId = new("00000000-0000-0000-0000-0000000000a4");
    public static readonly Guid NoAccessId = new("00000000-0000-0000-0000-0000000000a5");
    public static readonly Guid NetworkUserId = new("00000000-0000-0000-0000-0000000000a6");

    public const string Administrator = "Administrator";
    public const string VmAdmin = "VMAdmin";
    public const string VmUser = "VMUser";
    public const string Auditor = "Auditor";
    public const string NoAccess = "NoAccess";
    public const string NetworkUser = "NetworkUser";

    /// <summary>(id, name, privileges, description) of each built-in role.</summary>
    public static IReadOnlyList<(Guid Id, string Name, Privileges Privileges, string Description)> All { get; } =
    [
        (AdministratorId, Administrator, Privileges.All, "Everything, including users and permissions."),
        (VmAdminId, VmAdmin, Privileges.VmScoped | Privileges.ImageUse | Privileges.NetworkUse, "Create, change, run, snapshot and delete VMs, use images and networks."),
        (VmUserId, VmUser, Privileges.VmAudit | Privileges.VmConsole | Privileges.VmPowerMgmt | Privileges.VmConfigCdrom,
            "See, use the consoles of, and power VMs, and change their CD-ROM's disc."),
        (AuditorId, Auditor, Privileges.VmAudit | Privileges.SysAudit, "Read-only: VMs, images, the host and the logs."),
        (NoAccessId, NoAccess, Privileges.None, "Nothing: on one VM it hides that VM from a broader grant."),
        (NetworkUserId, NetworkUser, Privileges.NetworkUse, "Attach NICs to a network: grant it on /networks/{id}."),
    ];

    public static bool IsBuiltIn(Guid roleId) => All.Any(r => r.Id == roleId);
}
