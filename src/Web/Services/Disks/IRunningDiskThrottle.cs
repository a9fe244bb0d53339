using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Disks;

/// <summary>Changes a running VM's disk I/O limits in its VMM (which throttles its own disks: docs/architecture.md).</summary>
public interface IRunningDiskThrottle
{
    /// <summary>Sets the limits of the disk at <paramref name="diskPosition"/> (null: none); a <see cref="VmRuntimeException"/> says why not.</summary>
    Task SetAsync(Guid vmId, int diskPosition, long? bytesPerSecond, int? iops, CancellationToken cancellationToken);
}

/// <summary><see cref="IRunningDiskThrottle"/> over the VM's <c>control.sock</c>: <c>block_set_io_throttle</c> on <c>disk{index}</c>.</summary>
internal sealed class ControlSocketDiskThrottle(IVmRuntimeInfo runtimeInfo) : IRunningDiskThrottle
{
    public async Task SetAsync(Guid vmId, int diskPosition, long? bytesPerSecond, int? iops, CancellationToken cancellationToken)
    {
        try
        {
            await using var client = await Supervisor.VmmSockets.ConnectControlAsync(runtimeInfo, vmId, cancellationToken);
            // The VMM names its disks disk0, disk1… in the order vm.json lists them, which is the definition's.
            await client.BlockSetIoThrottleAsync($"disk{diskPosition}", bytesPerSecond, iops, cancellationToken);
        }
        catch (VmmControlException ex)
        {
            throw new VmRuntimeException($"The VMM did not take the new disk limits: {ex.Message}", ex);
        }
    }
}
