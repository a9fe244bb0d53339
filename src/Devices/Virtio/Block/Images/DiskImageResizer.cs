using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Devices.Virtio.Block.Images;

/// <summary>Grows disk images of a stopped VM, as <c>qemu-img resize</c> does; a running VM's disk grows through the VMM (<c>block_resize</c>).</summary>
public static class DiskImageResizer
{
    /// <summary>
    /// Grows the image at <paramref name="path"/> to <paramref name="newSizeBytes"/> (a multiple of 512). Raw: the file
    /// is extended (sparse). qcow2: the header's size, and a bigger L1 table when the new size needs one, switched in one
    /// header write. Throws <see cref="DiskImageException"/> for a smaller size (shrinking would cut off the guest's
    /// file systems), a size not a multiple of 512 or past <see cref="DiskImageCreator.MaxSizeBytes"/>, and an image in use.
    /// </summary>
    public static void Grow(string path, long newSizeBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (newSizeBytes > DiskImageCreator.MaxSizeBytes)
        {
            throw new DiskImageException($"{path}: {DiskImageDescription.Bytes(newSizeBytes)} is more than the largest disk, {DiskImageCreator.MaxSizeBytes >> 40} TiB.");
        }

        using var disk = OpenWritable(path);
        ((IGrowableDisk)disk).Grow(newSizeBytes);
    }

    /// <summary>Opens an image for a structural change: exclusively, refused while a VM has it open.</summary>
    internal static IBlockBackend OpenWritable(string path)
    {
        var file = DiskImages.OpenForMaintenance(path, writable: true);
        try
        {
            return DiskImageProbe.Detect(file) == DiskImageFormat.Qcow2
                ? Qcow2BlockBackend.Open(file, path, new Qcow2OpenOptions())
                : new RawFileBlockBackend(file, readOnly: false) { Path = path };
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
