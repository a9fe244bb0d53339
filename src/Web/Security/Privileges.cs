namespace Platform.Web.Security;

/// <summary>
/// What a user may do, in the spirit of Proxmox VE's privileges. A role is a set of these; a grant gives a role on
/// <c>/</c> (everything), on one VM or on one network. The <c>VM.*</c> privileges are checked on the VM concerned,
/// <c>Network.Use</c> on the network; the others are checked on <c>/</c> only. Stored as an integer: never renumber a member.
/// </summary>
[Flags]
public enum Privileges
{
    None = 0,

    /// <summary>See the VM, its state, settings and events.</summary>
    VmAudit = 1 << 0,

    /// <summary>Open the VM's graphical and serial consoles.</summary>
    VmConsole = 1 << 1,

    /// <summary>Start, shut down, stop, pause, resume and reset the VM.</summary>
    VmPowerMgmt = 1 << 2,

    /// <summary>Change the VM's definition (hardware, boot, disks, NICs).</summary>
    VmConfig = 1 << 3,

    /// <summary>Create VMs (on <c>/</c>) and delete them.</summary>
    VmAllocate = 1 << 4,

    /// <summary>See the image library and attach its images to VMs.</summary>
    ImageUse = 1 << 5,

    /// <summary>Upload and delete images.</summary>
    ImageManage = 1 << 6,

    /// <summary>See the host, the whole event log and the audit log.</summary>
    SysAudit = 1 << 7,

    /// <summary>Manage users, groups, roles and grants.</summary>
    UserManage = 1 << 8,

    /// <summary>Attach VMs' NICs to the network (checked on <c>/networks/{id}</c>, or on <c>/</c>).</summary>
    NetworkUse = 1 << 9,

    /// <summary>Take, revert and delete the VM's disk snapshots (seeing them needs only <see cref="VmAudit"/>).</summary>
    VmSnapshot = 1 << 10,

    /// <summary>
    /// Put a disc in the VM's CD-ROM drive and take it out, running or not (Proxmox's <c>VM.Config.CDROM</c>): what a
    /// VM's user needs to run an installer, without changing the rest of its definition. Inserting a library image needs
    /// <see cref="ImageUse"/> too, as attaching one does.
    /// </summary>
    VmConfigCdrom = 1 << 11,

    All = VmAudit | VmConsole | VmPowerMgmt | VmConfig | VmAllocate | ImageUse | ImageManage | SysAudit | UserManage | NetworkUse | VmSnapshot | VmConfigCdrom,

    /// <summary>The privileges that mean something on one VM; the rest are evaluated on <c>/</c>.</summary>
    VmScoped = VmAudit | VmConsole | VmPowerMgmt | VmConfig | VmAllocate | VmSnapshot | VmConfigCdrom,

    /// <summary>The privileges that mean something on one network.</summary>
    NetworkScoped = NetworkUse,
}

/// <summary>The privileges' names as Proxmox writes them (<c>VM.Audit</c>), for pages, the API and the audit log.</summary>
public static class PrivilegeNames
{
    private static readonly (Privileges Privilege, string Name, string Description)[] Table =
    [
        (Privileges.VmAudit, "VM.Audit", "see VMs, their settings and events"),
        (Privileges.VmConsole, "VM.Console", "open the graphical and serial consoles"),
        (Privileges.VmPowerMgmt, "VM.PowerMgmt", "start, stop, pause, resume and reset"),
        (Privileges.VmConfig, "VM.Config", "change a VM's definition"),
        (Privileges.VmAllocate, "VM.Allocate", "create (on /) and delete VMs"),
        (Privileges.VmSnapshot, "VM.Snapshot", "take, revert and delete disk snapshots"),
        (Privileges.VmConfigCdrom, "VM.Config.CDROM", "insert and eject the CD-ROM drive's disc"),
        (Privileges.ImageUse, "Image.Use", "see the image library and use its images in VMs"),
        (Privileges.ImageManage, "Image.Manage", "upload and delete images"),
        (Privileges.SysAudit, "Sys.Audit", "see the host, the image library, the event log and the audit log"),
        (Privileges.UserManage, "User.Manage", "manage users, groups, roles and grants"),
        (Privileges.NetworkUse, "Network.Use", "attach VMs' NICs to a network"),
    ];

    /// <summary>Every single privilege, in the order pages list them.</summary>
    public static IReadOnlyList<Privileges> Each { get; } = Table.Select(t => t.Privilege).ToArray();

    public static string Name(Privileges privilege) =>
        Table.FirstOrDefault(t => t.Privilege == privilege).Name ?? privilege.ToString();

    public static string Describe(Privileges privilege) =>
        Table.FirstOrDefault(t => t.Privilege == privilege).Description ?? "";

    /// <summary>"VM.Audit, VM.Console"; "none" for none.</summary>
    public static string Format(Privileges set) =>
        set == Privileges.None ? "none" : string.Join(", ", Split(set).Select(Name));

    public static IEnumerable<Privileges> Split(Privileges set) => Table.Select(t => t.Privilege).Where(p => (set & p) == p);

    /// <summary>Parses names like <c>VM.Audit</c> (case-insensitive); false on an unknown one.</summary>
    public static bool TryParse(IEnumerable<string> names, out Privileges set)
    {
        set = Privileges.None;
        foreach (string name in names)
        {
            var match = Table.FirstOrDefault(t => t.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase));
            if (match.Name is null)
            {
                return false;
            }

            set |= match.Privilege;
        }

        return true;
    }
}
