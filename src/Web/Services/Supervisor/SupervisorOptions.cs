namespace Platform.Web.Services.Supervisor;

/// <summary>Settings under <c>Platform:Supervisor</c>: where platform-vmm is and where VM runtime folders go.</summary>
public sealed class SupervisorOptions
{
    public const string Section = "Platform:Supervisor";

    /// <summary>The platform-vmm program; found by <see cref="VmmLocator"/> (the NativeAOT publish first) when not set.</summary>
    public string? VmmPath { get; set; }

    /// <summary>The parent of every VM's runtime folder; <c>DataDirectory/run</c> when not set. Keep it short: socket paths are limited to 107 bytes.</summary>
    public string? RuntimeRoot { get; set; }

    /// <summary>
    /// Whether this host starts the VMs marked autostart when it starts (unset: yes). In a cluster each host starts
    /// only its own (<see cref="ClusterHostName"/>).
    /// </summary>
    public bool? Autostart { get; set; }

    /// <summary>
    /// In a cluster, this host's name: autostart starts only the VMs whose <c>HostName</c> it is, since every host
    /// reads the same definitions. Null on a single host, which runs every VM. Not configuration (internal, so the
    /// binder leaves it): <c>Platform:Cluster:HostName</c> sets it.
    /// </summary>
    internal string? ClusterHostName { get; set; }

    /// <summary>How long a started VMM may take to open its control socket.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a VMM asked to quit may take to exit before it is killed.</summary>
    public TimeSpan QuitTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often running VMs' counters are read for the live pages and the hub.</summary>
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often a running VM's runtime folder is checked for having been deleted under its VMM.</summary>
    public TimeSpan FolderCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The pause before restarting a VM whose on-crash policy is restart; it doubles with each further crash.</summary>
    public TimeSpan CrashRestartDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest pause before such a restart.</summary>
    public TimeSpan CrashRestartMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The crash that makes this many within <see cref="CrashRestartWindow"/> is not restarted: the VM stays Crashed.</summary>
    public int CrashRestartLimit { get; set; } = 5;

    /// <summary>How far back crashes count towards <see cref="CrashRestartLimit"/>.</summary>
    public TimeSpan CrashRestartWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How each VMM is confined (<c>Platform:Supervisor:Jail</c>).</summary>
    public JailSettings Jail { get; set; } = new();

    /// <summary>
    /// Environment variables every VMM gets besides the dashboard's own (<c>Platform:Supervisor:VmmEnvironment</c>):
    /// <c>PLATFORM_PASST</c> to pick a passt, <c>PLATFORM_VMM_SECCOMP=log</c> while building the jail's allowlist,
    /// <c>PLATFORM_VMM_JAIL_SELFTEST</c> to see a jailed VMM killed (docs/architecture.md, Confinement).
    /// </summary>
    public Dictionary<string, string> VmmEnvironment { get; set; } = [];
}

/// <summary>
/// Settings under <c>Platform:Supervisor:Jail</c>. When the dashboard runs as root (and <see cref="Enabled"/>), each
/// VMM runs jailed as its own unprivileged uid and gid, <see cref="UidBase"/> plus a number from 0 to
/// <see cref="UidCount"/> - 1 taken from the VM's id: new namespaces, a root of its own files, no capabilities, a
/// seccomp allowlist (docs/architecture.md, Confinement). A dashboard that does not run as root starts VMMs with its
/// own (unprivileged) rights, unjailed.
/// </summary>
public sealed class JailSettings
{
    /// <summary>False starts every VMM with <c>--no-jail</c>: with the dashboard's rights. For development only; the VMM log says so.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The first uid (and gid) of the VMs' range: pick one no user or service of the host has.</summary>
    public uint UidBase { get; set; } = 200000;

    /// <summary>How many uids the range has; VMs whose ids fall on the same number share a uid.</summary>
    public uint UidCount { get; set; } = 65536;

    /// <summary>The uid (and gid) of VM <paramref name="vmId"/>: stable across starts, so its disks stay its own.</summary>
    public uint UidOf(Guid vmId)
    {
        Span<byte> bytes = stackalloc byte[16];
        vmId.TryWriteBytes(bytes);
        uint hash = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes) ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        return UidBase + (hash % Math.Max(1, UidCount));
    }

    /// <summary>The platform-vmm options for VM <paramref name="vmId"/>: <c>--jail UID:GID</c> as root, <c>--no-jail</c> when turned off.</summary>
    public IReadOnlyList<string> ArgumentsFor(Guid vmId, bool runningAsRoot)
    {
        if (!Enabled)
        {
            return ["--no-jail"];
        }

        if (!runningAsRoot)
        {
            return []; // no rights to drop, and none to make namespaces with
        }

        uint id = UidOf(vmId);
        return ["--jail", $"{id}:{id}"];
    }
}
