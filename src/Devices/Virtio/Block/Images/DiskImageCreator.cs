using Platform.Devices.Virtio.Block.Qcow2;

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
    /// path that exists, or more space than the file system has free (<see cref="RequiredBytes"/>), and
    /// <see cref="IOException"/> when the file system refuses (then nothing is left behind).
    /// </summary>
    public static void Create(string path, long sizeBytes, DiskImageFormat format, Preallocation preallocation) =>
        Create(path, sizeBytes, format, preallocation, null, CancellationToken.None);

    /// <summary>As <see cref="Create(string, long, DiskImageFormat, Preallocation)"/>, reporting bytes written (full preallocation takes a while) and cancellable.</summary>
    public static void Create(string path, long sizeBytes, DiskImageFormat format, Preallocation preallocation,
        IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckSize(path, sizeBytes);
        if (format == DiskImageFormat.Raw && preallocation == Preallocation.Metadata)
        {
            throw new DiskImageException(
                $"{path}: a raw image has no metadata to preallocate (qemu-img refuses it too); use preallocation off or full.");
        }

        string full = System.IO.Path.GetFullPath(path);
        string folder = System.IO.Path.GetDirectoryName(full)!;
        if (File.Exists(full) || Directory.Exists(full))
        {
            throw new DiskImageException($"{path} already exists; a new disk image never replaces a file.");
        }

        if (!Directory.Exists(folder))
        {
            throw new DiskImageException($"{path}: the folder {folder} does not exist.");
        }

        long required = RequiredBytes(sizeBytes, format, preallocation);
        long available = new DriveInfo(folder).AvailableFreeSpace;
        if (required > available)
        {
            throw new DiskImageException(
                $"{path}: the new image needs {DiskImageDescription.Bytes(required)} now, but the file system has only {DiskImageDescription.Bytes(available)} free.");
        }

        string temporary = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(full)}.creating-{Environment.ProcessId}-{Guid.NewGuid():N}");
        long written = 0;
        void Wrote(long bytes)
        {
            written += bytes;
            progress?.Report(written);
        }

        try
        {
            using (var file = File.OpenHandle(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                if (format == DiskImageFormat.Qcow2)
                {
                    Qcow2BlankImage.Write(file, sizeBytes, preallocation, Wrote, cancellationToken);
                }
                else
                {
                    RandomAccess.SetLength(file, sizeBytes); // a sparse file: the guest reads zeros, the host stores nothing
                    if (preallocation == Preallocation.Full)
                    {
                        DiskImageZeros.Write(file, 0, sizeBytes, Wrote, cancellationToken);
                    }
                }

                // Durable before it gets its name: after the rename no crash can leave the name on a partial image.
                RandomAccess.FlushToDisk(file);
            }

            // rename(2) is atomic; Move without overwrite refuses a name that appeared meanwhile.
            File.Move(temporary, full, overwrite: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(temporary);
            if (ex is OperationCanceledException || ex is DiskImageException)
            {
                throw;
            }

            throw new DiskImageException($"{path}: creating the image failed: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Host bytes the new image will take at most (before the guest writes anything): what to compare with the file
    /// system's free space. A sparse image takes a few clusters of metadata; full preallocation takes the whole size.
    /// </summary>
    public static long RequiredBytes(long sizeBytes, DiskImageFormat format, Preallocation preallocation)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sizeBytes);
        if (format == DiskImageFormat.Raw)
        {
            return preallocation == Preallocation.Full ? sizeBytes : 0;
        }

        var layout = Qcow2BlankImage.Plan(sizeBytes, preallocation);
        long metadata = layout.FirstData << Qcow2Creator.DefaultClusterBits;
        return preallocation == Preallocation.Full ? layout.FileBytes : metadata;
    }

    /// <summary>Refuses a size that is not a whole, positive number of MiB up to <see cref="MaxSizeBytes"/>, naming the image.</summary>
    public static void CheckSize(string path, long sizeBytes)
    {
        if (sizeBytes <= 0)
        {
            throw new DiskImageException($"{path}: a disk needs a size; {sizeBytes} bytes is not one.");
        }

        if (sizeBytes % SizeUnit != 0)
        {
            throw new DiskImageException(
                $"{path}: {sizeBytes} bytes is not a whole number of MiB; sizes are given in MiB (e.g. {(sizeBytes + SizeUnit - 1) / SizeUnit * SizeUnit} bytes).");
        }

        if (sizeBytes > MaxSizeBytes)
        {
            throw new DiskImageException($"{path}: {DiskImageDescription.Bytes(sizeBytes)} is more than the largest disk, {MaxSizeBytes >> 40} TiB.");
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a hidden leftover costs space, never an image under a real name.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
