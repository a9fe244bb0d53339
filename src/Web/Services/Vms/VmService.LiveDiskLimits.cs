using Platform.Web.Data;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Vms;

// A running VM's disk I/O limits, changed in its VMM at once (block_set_io_throttle), as its cgroup limits are.
public sealed partial class VmService
{
    /// <summary>A disk's place and limits before an update, to tell which of them changed.</summary>
    private sealed record DiskLimits(Guid Id, int Position, long? BytesPerSecond, int? Iops);

    /// <summary>
    /// Sends each changed disk limit of a running (or paused) VM to its VMM, and says what happened: "" when nothing
    /// changed or the VM is stopped (vm.json has the limits at its next start), else whether they apply now or only at the
    /// next start, and why. The VMM knows its disks by position (disk0, disk1…), so limits go live only when the disks
    /// themselves were neither added, removed nor reordered in the same change.
    /// </summary>
    private async Task<string> ApplyDiskLimitsLiveAsync(VirtualMachine vm, IReadOnlyList<DiskLimits> before, CancellationToken cancellationToken)
    {
        var changed = vm.Disks
            .Where(d => before.FirstOrDefault(b => b.Id == d.Id) is { } old && (old.BytesPerSecond != d.MaxBytesPerSecond || old.Iops != d.MaxIops))
            .ToList();
        if (changed.Count == 0 || runtime.GetState(vm.Id) is not (VmPowerState.Running or VmPowerState.Paused))
        {
            return "";
        }

        if (diskThrottle is null)
        {
            return " Its disk limits apply at its next start.";
        }

        bool sameDisks = vm.Disks.Count == before.Count && vm.Disks.All(d => before.Any(b => b.Id == d.Id && b.Position == d.Position));
        if (!sameDisks)
        {
            return " Its disk limits apply at its next start: its disks were added, removed or reordered too, so the running VM's disks no longer match them one for one.";
        }

        foreach (var disk in changed.OrderBy(d => d.Position))
        {
            try
            {
                await diskThrottle.SetAsync(vm.Id, disk.Position, disk.MaxBytesPerSecond, disk.MaxIops, cancellationToken);
            }
            catch (VmRuntimeException ex)
            {
                return $" Its disk limits could not be applied while it runs ({ex.Message}); they apply at its next start.";
            }
        }

        return " Its disk limits apply now.";
    }
}
