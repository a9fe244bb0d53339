using Microsoft.Win32.SafeHandles;

namespace Platform.Devices.Virtio.Block;

/// <summary>How a disk image file stores the guest's sectors.</summary>
public enum DiskImageFormat
{
    /// <summary>Sector N is bytes N·512 of the file.</summary>
    Raw,

    /// <summary>QEMU's copy-on-write format (versions 2 and 3): clusters mapped through L1/L2 tables, optional backing file.</summary>
    Qcow2,
}

/// <summary>
/// Recognises a qcow2 image by its magic, as QEMU's probing does, with one rule QEMU also keeps for probed images: an
/// image that was detected as raw must never start to look like qcow2 (see <see cref="RawFileBlockBackend.RefuseFormatMagic"/>),
/// so a guest cannot turn its raw disk into a qcow2 header that names a host file as its backing file.
/// </summary>
public static class DiskImageProbe
{
    /// <summary>"QFI\xfb", big-endian: the first four bytes of every qcow image (version 1, 2 or 3).</summary>
    public const uint Qcow2Magic = 0x514649FB;

    /// <summary>Whether <paramref name="firstBytes"/> begin with the qcow magic.</summary>
    public static bool HasQcowMagic(ReadOnlySpan<byte> firstBytes) =>
        firstBytes.Length >= 4 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(firstBytes) == Qcow2Magic;

    /// <summary>
    /// The format the file's first bytes say it is: qcow2 when it starts with the magic, else raw. Reads one aligned
    /// page, so it works on a handle opened with O_DIRECT too (and on the handle that holds the image's lock).
    /// </summary>
    public static DiskImageFormat Detect(SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var page = new AlignedBuffer(AlignedBuffer.PageSize);
        int read = RandomAccess.Read(file, page.Span, 0);
        return HasQcowMagic(page.Span[..read]) ? DiskImageFormat.Qcow2 : DiskImageFormat.Raw;
    }

    /// <summary>Detects the format of the file at <paramref name="path"/> (opened read-only, without a lock).</summary>
    public static DiskImageFormat Detect(string path)
    {
        using var file = Storage.KeptFiles.OpenRead(path, FileShare.ReadWrite);
        return Detect(file);
    }

    /// <summary>"raw" or "qcow2", as QEMU names them.</summary>
    public static string Name(DiskImageFormat format) => format == DiskImageFormat.Qcow2 ? "qcow2" : "raw";

    /// <summary>Parses QEMU's format name; null for one we do not read.</summary>
    public static DiskImageFormat? Parse(string name) => name switch
    {
        "raw" => DiskImageFormat.Raw,
        "qcow2" => DiskImageFormat.Qcow2,
        _ => null,
    };
}
