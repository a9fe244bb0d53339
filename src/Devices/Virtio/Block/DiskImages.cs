using Microsoft.Win32.SafeHandles;
using Platform.Devices.Virtio.Block.Images;
using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Devices.Virtio.Block;

/// <summary>
/// Opens a disk image in whichever format it is: raw, or qcow2 with its backing chain. Without a format in the options
/// the format is detected from the first bytes (the qcow2 magic); a raw image detected this way refuses guest writes
/// that would put the magic at its start, so a guest cannot make its disk be read as qcow2 at the next start. Give
/// <c>format=raw</c> for a raw image that legitimately starts with those bytes.
/// </summary>
public static class DiskImages
{
    /// <summary>Opens through the managed file API (the engine opens O_DIRECT handles itself and calls <see cref="Open(SafeFileHandle, DiskOptions, IFileSpaceOperations?, int)"/>).</summary>
    public static IBlockBackend Open(DiskOptions options, IFileSpaceOperations? space = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Open(RawFileBlockBackend.OpenFile(options), options, space, requiredAlignment: 1);
    }

    /// <summary>Opens the image on an open handle, which this takes over (it is closed on failure too).</summary>
    public static IBlockBackend Open(SafeFileHandle file, DiskOptions options, IFileSpaceOperations? space, int requiredAlignment)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            var format = options.Format ?? DiskImageProbe.Detect(file);
            if (format == DiskImageFormat.Qcow2)
            {
                return Qcow2BlockBackend.Open(file, options.Path,
                    new Qcow2OpenOptions { ReadOnly = options.ReadOnly, RequiredAlignment = requiredAlignment, Space = space });
            }

            return new RawFileBlockBackend(file, options.ReadOnly, space, requiredAlignment)
            {
                Path = options.Path,
                RefuseFormatMagic = options.Format is null,
            };
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the image read-only (a shared lock: refused while a VM writes it), checking it as a VM would, and describes
    /// it and its backing chain. <paramref name="allowBackingFile"/> false refuses a qcow2 image that names a backing
    /// file, without opening that file.
    /// </summary>
    public static DiskImageDescription Describe(string path, DiskImageFormat? format = null, bool allowBackingFile = true)
    {
        var options = new DiskOptions(path, ReadOnly: true, Format: format);
        var file = RawFileBlockBackend.OpenFile(options);
        IBlockBackend image;
        try
        {
            image = (options.Format ?? DiskImageProbe.Detect(file)) == DiskImageFormat.Qcow2
                ? Qcow2BlockBackend.Open(file, path, new Qcow2OpenOptions { ReadOnly = true, AllowBackingFile = allowBackingFile })
                : new RawFileBlockBackend(file, readOnly: true) { Path = path };
        }
        catch
        {
            file.Dispose();
            throw;
        }

        using (image)
        {
            return ((IDiskImage)image).Describe();
        }
    }

    /// <summary>
    /// The image's format, virtual size and the host bytes it takes, as <c>qemu-img info</c> gives them. Opens the file
    /// read-only with a shared lock, so it is refused (<see cref="DiskImageException"/>) while a VM writes it: ask the
    /// VMM (<c>query-stats</c>) then.
    /// </summary>
    public static DiskImageInfo Inspect(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenForMaintenance(path, writable: false);
        long length = RandomAccess.GetLength(file);
        long allocated = FileAllocationNative.AllocatedBytes(file) ?? length;
        if (DiskImageProbe.Detect(file) == DiskImageFormat.Raw)
        {
            return new DiskImageInfo(path, DiskImageFormat.Raw, length, allocated, length, 0, null);
        }

        var header = Qcow2HeaderReader.Read(file, path);
        return new DiskImageInfo(path, DiskImageFormat.Qcow2, header.Size, allocated, length, header.SnapshotCount, header.BackingFile);
    }

    /// <summary>
    /// Opens an image for an offline operation: writable ones exclusively (as a VM does), read-only ones shared. A file a
    /// running VM holds is refused with a <see cref="DiskImageException"/> that says so.
    /// </summary>
    internal static SafeFileHandle OpenForMaintenance(string path, bool writable)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read, writable ? FileShare.None : FileShare.Read);
        }
        catch (FileNotFoundException ex)
        {
            throw new DiskImageException($"{path}: no such disk image.", ex);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new DiskImageException($"{path}: no such disk image.", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new DiskImageException($"{path}: no permission to {(writable ? "change" : "read")} the image.", ex);
        }
        catch (IOException ex)
        {
            throw new DiskImageException(
                $"{path} is in use (a running VM holds it): {ex.Message}. Stop the VM first; while it runs, its VMM reports the disk (query-stats) and grows it (block_resize).", ex);
        }
    }
}
