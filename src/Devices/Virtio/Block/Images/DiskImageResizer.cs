namespace Platform.Devices.Virtio.Block.Images;

/// <summary>Grows disk images of a stopped VM, as <c>qemu-img resize</c> does; a running VM's disk grows through the VMM (<c>block_resize</c>).</summary>
public static class DiskImageResizer
{
    /// <summary>
    /// Grows the image at <paramref name="path"/> to <paramref name="newSizeBytes"/> (a multiple of 512). Raw: the file
    /// is extended (sparse). qcow2: the header's size, and a bigger L1 table when the new size needs one, switched in one
    /// header write. Throws <see cref="DiskImageException"/> for a smaller size (shrinking would cut off the guest's
    /// file systems), a size not a multiple of 512 or past the limits, and an image in use.
    /// </summary>
    public static void Grow(string path, long newSizeBytes) => throw new NotImplementedException();
}
