using Microsoft.Win32.SafeHandles;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Storage;

/// <summary>
/// Discard and write-zeroes for raw images with <c>fallocate(2)</c>: PUNCH_HOLE|KEEP_SIZE deallocates a range (it
/// then reads as zeros), ZERO_RANGE|KEEP_SIZE zeroes it in place. Hand it to
/// <see cref="RawFileBlockBackend.Open"/> so virtio-blk offers VIRTIO_BLK_F_DISCARD; on file systems without these
/// modes the calls fail with the errno and the device falls back to writing zeros.
/// </summary>
public sealed class HostFileSpace : IFileSpaceOperations
{
    public static HostFileSpace Instance { get; } = new();

    public bool TryPunchHole(SafeFileHandle file, long offset, long length, out string? failure) =>
        Fallocate(file, LibcNative.FallocPunchHole | LibcNative.FallocKeepSize, offset, length, "punch a hole", out failure);

    public bool TryZeroRange(SafeFileHandle file, long offset, long length, out string? failure) =>
        Fallocate(file, LibcNative.FallocZeroRange | LibcNative.FallocKeepSize, offset, length, "zero a range", out failure);

    private static bool Fallocate(SafeFileHandle file, int mode, long offset, long length, string what, out string? failure)
    {
        while (true)
        {
            if (LibcNative.Fallocate(file, mode, offset, length) == 0)
            {
                failure = null;
                return true;
            }

            int errno = LibcNative.LastError;
            if (errno != LibcNative.EINTR)
            {
                failure = $"fallocate could not {what} at {offset}+{length}: errno {errno}";
                return false;
            }
        }
    }
}
