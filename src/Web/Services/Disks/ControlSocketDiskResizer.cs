using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Disks;

/// <summary><see cref="IRunningDiskResizer"/> over the VM's <c>control.sock</c>: <c>block_resize</c> on <c>disk{index}</c>.</summary>
internal sealed class ControlSocketDiskResizer(IVmRuntimeInfo runtimeInfo) : IRunningDiskResizer
{
    public async Task ResizeAsync(Guid vmId, int diskPosition, long sizeBytes, CancellationToken cancellationToken)
    {
        try
        {
            await using var client = await Supervisor.VmmSockets.ConnectControlAsync(runtimeInfo, vmId, cancellationToken);
            // The VMM names its disks disk0, disk1… in the order vm.json lists them, which is the definition's.
            await client.BlockResizeAsync($"disk{diskPosition}", sizeBytes, cancellationToken);
        }
        catch (VmmControlException ex)
        {
            throw new VmRuntimeException($"The VMM did not grow the disk: {ex.Message}", ex);
        }
    }
}
