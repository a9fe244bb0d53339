namespace Platform.Devices.Virtio.Block;

/// <summary>A backend whose disk can grow while it is open (QMP's <c>block_resize</c>): raw files and qcow2 images.</summary>
public interface IGrowableDisk
{
    /// <summary>
    /// Grows the disk to <paramref name="newSize"/> bytes, durably, before it returns; <see cref="IBlockBackend.Length"/>
    /// says the new size afterwards. Throws <see cref="DiskImageException"/> for a size the image will not take (smaller,
    /// not a multiple of 512, past its limits, a read-only image) and <see cref="IOException"/> when the file fails.
    /// </summary>
    void Grow(long newSize);
}
