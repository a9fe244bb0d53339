namespace Platform.Devices.Virtio.Block;

/// <summary>
/// A disk image that cannot be opened as it is: corrupt (a table outside the file, overlapping metadata, a size past
/// every limit), or using a feature we do not implement. The message names the image and says what to do; it is an
/// <see cref="IOException"/> so the VMM reports it and exits 1, as for any image it cannot open.
/// </summary>
public sealed class DiskImageException : IOException
{
    public DiskImageException()
    {
    }

    public DiskImageException(string message)
        : base(message)
    {
    }

    public DiskImageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
