using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Disks;

/// <summary><see cref="IRunningDiskResizer"/> over the VM's <c>control.sock</c>.</summary>
internal sealed class ControlSocketDiskResizer(IVmRuntimeInfo runtimeInfo) : IRunningDiskResizer
{
    public Task ResizeAsync(Guid vmId, int diskPosition, long sizeBytes, CancellationToken cancellationToken)
    {
        _ = runtimeInfo.GetSocketPath(vmId, VmSocket.Control) ?? throw new VmRuntimeException("The VM is not running any more.");
        throw new VmRuntimeException("This platform-vmm cannot grow a disk while it runs; stop the VM and grow it then.");
    }
}
