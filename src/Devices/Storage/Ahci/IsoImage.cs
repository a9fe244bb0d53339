using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Platform.Devices.Storage.Ahci;

/// <summary>
/// An ISO 9660 image opened read-only as a CD-ROM's medium: 2048-byte sectors, the last one padded with zeros when the
/// file is not a whole number of them. <see cref="Open"/> checks the primary volume descriptor's "CD001", so a file that
/// is not an ISO fails with a reason at start, not as a guest that finds garbage.
/// </summary>
public sealed class IsoImage : IDisposable
{
    public const int SectorSize = 2048;
    private const long VolumeDescriptorOffset = 16 * SectorSize;

    private readonly SafeFileHandle _file;

    private IsoImage(string path, SafeFileHandle file, long length, string volumeLabel)
    {
        Path = path;
        _file = file;
        Length = length;
        VolumeLabel = volumeLabel;
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>Sectors the medium holds (the file's length rounded up to whole sectors).</summary>
    public long Sectors => (Length + SectorSize - 1) / SectorSize;

    /// <summary>The primary volume descriptor's volume identifier, trimmed ("" when blank).</summary>
    public string VolumeLabel { get; }

    /// <exception cref="IsoImageException">The file is missing, unreadable, or not ISO 9660; the message says which.</exception>
    public static IsoImage Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeFileHandle file;
        try
        {
            file = KeptFiles.OpenRead(path, FileShare.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IsoImageException($"The CD-ROM image '{path}' cannot be opened: {ex.Message}", ex);
        }

        return FromHandle(path, file);
    }

    /// <summary>
    /// The image in <paramref name="file"/>, a descriptor opened by someone else (the dashboard passes one over the control
    /// socket, since a jailed VMM cannot open the library's files by name); <paramref name="name"/> is only what the drive
    /// reports as its medium. The image owns <paramref name="file"/> from now on, and closes it on failure too.
    /// </summary>
    /// <exception cref="IsoImageException">The file is not ISO 9660 (or not a file at all).</exception>
    public static IsoImage Open(string name, SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (string.IsNullOrEmpty(name))
        {
            file.Dispose();
            throw new ArgumentException("A passed image needs a name for the drive to report.", nameof(name));
        }

        try
        {
            return FromHandle(name, file);
        }
        catch (Exception ex) when (ex is not IsoImageException and (IOException or UnauthorizedAccessException or NotSupportedException))
        {
            throw new IsoImageException($"The CD-ROM image '{name}' cannot be read: {ex.Message}", ex);
        }
    }

    private static IsoImage FromHandle(string path, SafeFileHandle file)
    {
        try
        {
            long length = RandomAccess.GetLength(file);
            Span<byte> descriptor = stackalloc byte[SectorSize];
            int read = length >= VolumeDescriptorOffset + SectorSize ? ReadFully(file, descriptor, VolumeDescriptorOffset) : 0;
            if (read < SectorSize || descriptor[0] != 1 || !descriptor.Slice(1, 5).SequenceEqual("CD001"u8))
            {
                throw new IsoImageException(
                    $"The CD-ROM image '{path}' is not an ISO 9660 image (no primary volume descriptor \"CD001\" at byte 32769); make one with xorriso or genisoimage.");
            }

            string label = Encoding.ASCII.GetString(descriptor.Slice(40, 32)).Trim(' ', '\0');
            return new IsoImage(path, file, length, label);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads <paramref name="destination"/>.Length / 2048 sectors from <paramref name="lba"/>; false on a host I/O error.</summary>
    public bool TryRead(long lba, Span<byte> destination)
    {
        try
        {
            int read = ReadFully(_file, destination, lba * SectorSize);
            destination[read..].Clear();
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose() => _file.Dispose();

    private static int ReadFully(SafeFileHandle file, Span<byte> destination, long offset)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int read = RandomAccess.Read(file, destination[total..], offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}

/// <summary>A CD-ROM image that cannot serve as a medium; the message names the file and the reason.</summary>
public sealed class IsoImageException(string message, Exception? inner = null) : IOException(message, inner);
