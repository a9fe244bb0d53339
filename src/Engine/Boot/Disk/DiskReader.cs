using Microsoft.Win32.SafeHandles;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Engine.Boot.Disk;

/// <summary>
/// Read-only random access to a disk image: raw, or qcow2 through <see cref="Qcow2BlockBackend"/> (read-only, with its
/// backing chain). Every read is checked against the image's length first, so a partition table or file system that
/// points past the end fails with a <see cref="BootException"/> naming the disk, never a short read taken for data.
/// </summary>
internal sealed class DiskReader : IDisposable
{
    private readonly SafeFileHandle? _file;
    private readonly IBlockBackend? _image;

    private DiskReader(SafeFileHandle file, long length, string name)
    {
        _file = file;
        Length = length;
        Name = name;
    }

    private DiskReader(IBlockBackend image, string name)
    {
        _image = image;
        Length = image.Length;
        Name = name;
    }

    /// <summary>How the disk is named in messages: "disk 0".</summary>
    public string Name { get; }

    public long Length { get; }

    /// <param name="name">The disk as messages name it, e.g. "disk 0".</param>
    /// <param name="format">The image's format as the disk was given; null detects it (the qcow2 magic), as virtio-blk does.</param>
    public static DiskReader Open(string path, string name, DiskImageFormat? format = null)
    {
        SafeFileHandle file;
        try
        {
            // Shared both ways: the VMM reads the boot files before virtio-blk opens (and locks) the image.
            file = Platform.Devices.Storage.KeptFiles.OpenRead(path, FileShare.ReadWrite);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BootException($"{name}: cannot open the disk image {path}: {ex.Message}", ex);
        }

        try
        {
            if ((format ?? DiskImageProbe.Detect(file)) == DiskImageFormat.Qcow2)
            {
                return new DiskReader(Qcow2BlockBackend.Open(file, path, new Qcow2OpenOptions { ReadOnly = true }), name);
            }

            return new DiskReader(file, RandomAccess.GetLength(file), name);
        }
        catch (IOException ex)
        {
            file.Dispose();
            // A corrupt or unsupported qcow2 image (DiskImageException), or its backing file missing.
            throw new BootException($"{name}: {ex.Message}", ex);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; the whole range must lie in the image.</summary>
    public void Read(long offset, Span<byte> buffer)
    {
        if (offset < 0 || offset > Length || buffer.Length > Length - offset)
        {
            throw new BootException(
                $"{Name}: a read of {buffer.Length} bytes at byte {offset} goes past the end of the image ({Length} bytes): the image is truncated or corrupt.");
        }

        if (_image is not null)
        {
            if (!_image.Read(offset, buffer))
            {
                throw new BootException($"{Name}: reading the image at byte {offset} failed: {_image.LastError}");
            }

            return;
        }

        int done = 0;
        while (done < buffer.Length)
        {
            int n;
            try
            {
                n = RandomAccess.Read(_file!, buffer[done..], offset + done);
            }
            catch (IOException ex)
            {
                throw new BootException($"{Name}: reading the image at byte {offset + done} failed: {ex.Message}", ex);
            }

            if (n == 0)
            {
                throw new BootException($"{Name}: the image ended at byte {offset + done} while reading (it shrank?).");
            }

            done += n;
        }
    }

    public void Dispose()
    {
        _file?.Dispose();
        _image?.Dispose();
    }
}

/// <summary>A window of a disk (a partition, or the whole disk): reads are relative to its start and kept inside it.</summary>
internal sealed class DiskRegion
{
    private readonly DiskReader _disk;

    public DiskRegion(DiskReader disk, long start, long length, string name)
    {
        if (start < 0 || length < 0 || start > disk.Length || length > disk.Length - start)
        {
            throw new BootException($"{name}: bytes {start}–{start + length} lie outside the disk image ({disk.Length} bytes).");
        }

        _disk = disk;
        Start = start;
        Length = length;
        Name = name;
    }

    /// <summary>How messages name the region: "disk 0 partition 1".</summary>
    public string Name { get; }

    public long Start { get; }

    public long Length { get; }

    /// <summary>Reads inside the region; <paramref name="what"/> names the structure in the message when it does not fit.</summary>
    public void Read(long offset, Span<byte> buffer, string what)
    {
        if (offset < 0 || offset > Length || buffer.Length > Length - offset)
        {
            throw new BootException(
                $"{what} at byte {offset} (+{buffer.Length}) lies outside the partition ({Length} bytes): the file system is corrupt or larger than its partition.");
        }

        _disk.Read(Start + offset, buffer);
    }
}
