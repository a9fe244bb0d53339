using System.Security.Cryptography;
using System.Text;
using Platform.Web.Data;

namespace Platform.Web.Services.Limits;

/// <summary>
/// Each running VM's cgroup: made and filled with the VM's limits before its VMM starts (the VMM joins it before its
/// first instruction, see <c>VmmProcess.Start</c>), rewritten when the VM's limits change while it runs, read for the
/// Summary tab, removed when the VMM ends. Groups live under <c>platform-{hash of the runtime root}</c> in the
/// dashboard's own cgroup, so two dashboards (tests run several) never touch each other's. A group left by a dashboard
/// that crashed is adopted when a VMM still runs in it (the supervisor reattaches to that VMM) and removed otherwise,
/// when this one starts, before any VM does.
/// </summary>
public sealed partial class VmCgroups
{
    private const string VmPrefix = "vm-";
    private static readonly TimeSpan RemoveRetry = TimeSpan.FromMilliseconds(50);
    private readonly LimitsOptions _options;
    private readonly ILogger<VmCgroups> _logger;

    public VmCgroups(LimitsOptions options, string runtimeRoot, ILogger<VmCgroups> logger)
        : this(options, runtimeRoot, options.Enabled ? CgroupDetector.Detect(out string reason) : null, logger, options.Enabled ? null : "turned off (Platform:Limits:Enabled)")
    {
    }

    /// <summary>With a given driver (tests), or none and why.</summary>
    public VmCgroups(LimitsOptions options, string runtimeRoot, ICgroupDriver? driver, ILogger<VmCgroups> logger, string? unavailableReason = null)
    {
        _options = options;
        _logger = logger;
        Parent = "platform-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(runtimeRoot))))[..8];
        Driver = driver;
        if (driver is null)
        {
            CgroupDetector.Detect(out string reason);
            Status = "VMs run without limits: " + (unavailableReason ?? reason) + ".";
            Log.Unavailable(logger, Status);
            return;
        }

        try
        {
            driver.Create(Parent);
            SweepStale();
            Status = $"Each VM runs in a cgroup of its own ({driver.Version}) under {driver.DirectoryOf(Parent, "memory")}.";
        }
        catch (IOException ex)
        {
            Driver = null;
            Status = "VMs run without limits: " + ex.Message;
            Log.Unavailable(logger, Status);
        }
    }

    /// <summary>The cgroup driver in use, or null when VMs run without limits (<see cref="Status"/> says why).</summary>
    public ICgroupDriver? Driver { get; }

    /// <summary>One sentence for the Host page: where VMs' cgroups are, or why there are none.</summary>
    public string Status { get; }

    /// <summary>The group every VM's group is in, relative to the dashboard's own.</summary>
    public string Parent { get; }

    public LimitsOptions Options => _options;

    public string GroupOf(Guid vmId) => $"{Parent}/{VmPrefix}{vmId:N}";

    /// <summary>
    /// Makes the VM's group with its limits and returns the <c>cgroup.procs</c> files its VMM must join; empty when VMs
    /// run without limits.
    /// </summary>
    /// <exception cref="IOException">A limit could not be set; the message names the file and value.</exception>
    public IReadOnlyList<string> Prepare(VirtualMachine vm)
    {
        if (Driver is null)
        {
            return [];
        }

        string group = GroupOf(vm.Id);
        Driver.Create(group);
        Driver.Apply(group, VmResourceLimits.From(vm, _options));
        return Driver.ProcsFiles(group);
    }

    /// <summary>
    /// Rewrites a running VM's limits (cgroup values apply at once); false when it has no group (not running, or VMs
    /// run without limits).
    /// </summary>
    /// <exception cref="IOException">The kernel refused a value (a memory limit below what the VM already uses, say).</exception>
    public bool Update(VirtualMachine vm)
    {
        string group = GroupOf(vm.Id);
        if (Driver is null || Driver.Pids(group).Count == 0)
        {
            return false;
        }

        Driver.Apply(group, VmResourceLimits.From(vm, _options));
        return true;
    }

    public CgroupStats? Stats(Guid vmId) => Driver?.ReadStats(GroupOf(vmId));

    /// <summary>Removes the VM's group once its last task is gone (a passt child may outlive the VMM by a moment).</summary>
    public async Task RemoveAsync(Guid vmId)
    {
        if (Driver is null)
        {
            return;
        }

        string group = GroupOf(vmId);
        for (int attempt = 0; attempt < 40; attempt++)
        {
            if (Driver.TryRemove(group))
            {
                return;
            }

            await Task.Delay(RemoveRetry);
        }

        Log.NotRemoved(_logger, Driver.DirectoryOf(group, "memory"), string.Join(", ", Driver.Pids(group)));
    }

    /// <summary>Groups of VMs under this dashboard's parent: those with tasks are adopted, empty ones removed.</summary>
    private void SweepStale()
    {
        foreach (string child in Driver!.Children(Parent).Where(c => c.StartsWith(VmPrefix, StringComparison.Ordinal)))
        {
            string group = $"{Parent}/{child}";
            if (Driver.Pids(group).Count > 0)
            {
                Log.Adopted(_logger, child);
            }
            else if (Driver.TryRemove(group))
            {
                Log.RemovedStale(_logger, child);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "{Status}")]
        public static partial void Unavailable(ILogger logger, string status);

        [LoggerMessage(LogLevel.Information, "Adopted the cgroup {Group} of a VMM that outlived the last dashboard")]
        public static partial void Adopted(ILogger logger, string group);

        [LoggerMessage(LogLevel.Information, "Removed the stale cgroup {Group}")]
        public static partial void RemovedStale(ILogger logger, string group);

        [LoggerMessage(LogLevel.Warning, "The cgroup {Directory} could not be removed: tasks {Pids} remain in it")]
        public static partial void NotRemoved(ILogger logger, string directory, string pids);
    }
}
