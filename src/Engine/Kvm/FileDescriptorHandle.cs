using Microsoft.Win32.SafeHandles;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Kvm;

/// <summary>A Unix file descriptor (the KVM system, a VM, a vCPU, an eventfd) closed exactly once.</summary>
internal sealed class FileDescriptorHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public FileDescriptorHandle(int fd)
        : base(ownsHandle: true)
    {
        SetHandle(fd);
    }

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => LibcNative.Close((int)handle) == 0;
}
