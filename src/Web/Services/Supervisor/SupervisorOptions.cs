namespace Platform.Web.Services.Supervisor;

/// <summary>Settings under <c>Platform:Supervisor</c>: where platform-vmm is and where VM runtime folders go.</summary>
public sealed class SupervisorOptions
{
    public const string Section = "Platform:Supervisor";

    /// <summary>The platform-vmm program; found by <see cref="VmmLocator"/> (the NativeAOT publish first) when not set.</summary>
    public string? VmmPath { get; set; }

    /// <summary>The parent of every VM's runtime folder; <c>DataDirectory/run</c> when not set. Keep it short: socket paths are limited to 107 bytes.</summary>
    public string? RuntimeRoot { get; set; }

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
}
