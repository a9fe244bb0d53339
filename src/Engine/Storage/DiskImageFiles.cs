using Microsoft.Win32.SafeHandles;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Storage;

/// <summary>
/// Opens a <c>--disk</c> image as virtio-blk's backend, raw or qcow2 (<see cref="DiskImages"/>: given by
/// <c>format=</c>, else detected). <c>cache=writeback</c> (and read-only disks) use the managed file API;
/// <c>cache=none</c> opens the file with O_DIRECT, as QEMU does, so guest I/O bypasses the host page cache and the
/// guest's flush (an fsync) makes it durable. A qcow2 image's backing files are opened read-only through the page cache.
/// </summary>
/// <remarks>
/// O_DIRECT needs aligned transfers: the backend says so (<see cref="IBlockBackend.RequiredAlignment"/> = 512), and the
/// device then reads and writes guest buffers in place when their addresses and lengths are multiples of 512 (Linux's
/// always are) and copies through its page-aligned bounce buffer otherwise, which fits file systems with 512-byte
/// logical blocks. Where the file system refuses
/// O_DIRECT (tmpfs, for one) the image is opened write-through instead (O_SYNC: each write durable before it is
/// acknowledged) and <see cref="OpenedDirect"/> says so. Either way the image is locked as .NET's FileShare locks it
/// (flock, exclusive for a writable disk), so two VMMs never write one image. The qcow2 backend keeps the same
/// alignment for its own metadata I/O (aligned buffers, whole sectors).
/// </remarks>
public static class DiskImageFiles
{
    /// <summary>What O_DIRECT transfers must be a multiple of, in memory address, length and file offset: one sector.</summary>
    public const int DirectAlignment = 512;

    /// <summary>Opens the image the options describe; throws <see cref="IOException"/> with the reason when it cannot.</summary>
    public static IBlockBackend Open(DiskOptions options) => Open(options, out _);

    /// <summary>As <see cref="Open(DiskOptions)"/>; <paramref name="openedDirect"/> tells whether O_DIRECT was used.</summary>
    public static IBlockBackend Open(DiskOptions options, out bool openedDirect)
    {
        ArgumentNullException.ThrowIfNull(options);
        openedDirect = false;
        if (options.Cache != DiskCacheMode.None || options.ReadOnly)
        {
            return DiskImages.Open(options, HostFileSpace.Instance);
        }

        if (!File.Exists(options.Path))
        {
            throw new FileNotFoundException($"The disk image {options.Path} does not exist.", options.Path);
        }

        var handle = LibcNative.OpenFile(options.Path, OpenFlags.ReadWrite | OpenFlags.Direct | OpenFlags.CloseOnExec);
        if (handle.IsInvalid)
        {
            int errno = LibcNative.LastError;
            handle.Dispose();
            if (errno == LibcNative.EINVAL)
            {
                // The file system has no O_DIRECT: keep cache=none's promise (nothing acknowledged sits in the page
                // cache only) with write-through instead.
                return DiskImages.Open(options, HostFileSpace.Instance);
            }

            throw new IOException(errno == LibcNative.EACCES || errno == LibcNative.EPERM
                ? $"No permission to open the disk image {options.Path} for writing (add ,ro to share it read-only)."
                : $"Cannot open the disk image {options.Path}: errno {errno}.");
        }

        if (LibcNative.Flock(handle, LibcNative.LockExclusive | LibcNative.LockNonBlocking) < 0)
        {
            handle.Dispose();
            throw new IOException(
                $"Cannot open the disk image {options.Path}: it is locked. Is another VM using it? Open it with ,ro to share it read-only.");
        }

        openedDirect = true;
        return DiskImages.Open(handle, options, HostFileSpace.Instance, DirectAlignment); // takes the handle over
    }
}
