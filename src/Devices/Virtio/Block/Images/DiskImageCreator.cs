namespace Platform.Devices.Virtio.Block.Images;

/// <summary>
/// Creates blank disk images, as <c>qemu-img create -f raw|qcow2 -o preallocation=off|metadata|full</c> does. The image
/// is written to a hidden temporary file in the same folder, made durable (fsync), and only then renamed to its name,
/// so the name appears with the whole image or not at all: a crash or a kill leaves at most a hidden
/// <c>.NAME.creating-PID</c> file, never a half-written image under the name.
/// </summary>
public static class DiskImageCreator
{
    /// <summary>Sizes are whole MiB, as the dashboard offers them.</summary>
    public const long SizeUnit = 1L << 20;

    /// <summary>64 TiB: beyond anything a VM here needs, and within what ext4 and XFS files and qcow2's tables can hold.</summary>
    public const long MaxSizeBytes = 64L << 40;

    /// <summary>
    /// Creates <paramref name="path"/>, which must not exist. Throws <see cref="DiskImageException"/> for a size that is
    /// not a whole number of MiB, zero or past <see cref="MaxSizeBytes"/>, a preallocation the format has not, or a
    /// path that exists, and <see cref="IOException"/> when the file system refuses (then nothing is left behind).
    /// </summary>
    public static void Create(string path, long sizeBytes, DiskImageFormat format, Preallocation preallocation) =>
        Create(path, sizeBytes, format, preallocation, null, CancellationToken.None);

    /// <summary>As <see cref="Create(string, long, DiskImageFormat, Preallocation)"/>, reporting bytes written (full preallocation takes a while) and cancellable.</summary>
    public static void Create(string path, long sizeBytes, DiskImageFormat format, Preallocation preallocation,
        IProgress<long>? progress, CancellationToken cancellationToken) =>
        throw new NotImplementedException();
}
