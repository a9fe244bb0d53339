namespace Platform.Engine.Boot;

/// <summary>
/// A BIOS image (SeaBIOS's <c>bios.bin</c>) read and checked before a machine is built: the flash chip's contents that
/// the machine maps read-only below 4 GiB, whose reset vector (16 bytes below the top) the first vCPU runs.
/// </summary>
/// <remarks>
/// The checks catch the files people hand over by mistake — an empty file, a disk image, a text file, a truncated
/// download — with a message instead of a guest that dies at its first instruction: the size must be a whole number of
/// 64 KiB, as QEMU requires of <c>-bios</c>, and the reset vector must begin with a jump, as every PC BIOS's does
/// (it has 16 bytes, not room for anything else).
/// </remarks>
public sealed class FirmwareImage
{
    public const int MinSize = 64 << 10;
    public const int MaxSize = 16 << 20;

    /// <summary>How much of the image's top also appears below 1 MiB (0xE0000–0xFFFFF), as on a PC and QEMU's pc machine.</summary>
    public const int LegacyWindowSize = 128 << 10;

    private const int ResetVectorFromTop = 16;
    private const byte JumpFar = 0xEA, JumpNear = 0xE9, JumpShort = 0xEB;

    private FirmwareImage(string path, byte[] bytes)
    {
        Path = path;
        Bytes = bytes;
    }

    public string Path { get; }

    public ReadOnlyMemory<byte> Bytes { get; }

    public int Size => Bytes.Length;

    /// <summary>Where the image starts: it ends at 4 GiB.</summary>
    public ulong GuestAddress => (1UL << 32) - (ulong)Size;

    /// <summary>How many of its last bytes are also mapped below 1 MiB: 128 KiB, or the whole image when smaller.</summary>
    public int LegacyWindowBytes => Math.Min(Size, LegacyWindowSize);

    /// <summary>Reads and checks <paramref name="path"/>; a <see cref="BootException"/> says what is wrong and what to do.</summary>
    public static FirmwareImage Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new BootException(path == VmConfig.DebianSeaBios
                ? $"The BIOS image {path} does not exist: install Debian's seabios package (apt-get install seabios), or give another image with --bios."
                : $"The BIOS image {path} does not exist.");
        }

        if (info.Length is < MinSize or > MaxSize || info.Length % MinSize != 0)
        {
            throw new BootException(
                $"The BIOS image {path} is {info.Length} bytes; a BIOS image is a whole number of 64 KiB from 64 KiB to 16 MiB (SeaBIOS's bios.bin is 128 KiB or 256 KiB).");
        }

        byte[] bytes;
        try
        {
            bytes = Platform.Devices.Storage.KeptFiles.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BootException($"Cannot read the BIOS image {path}: {ex.Message}", ex);
        }

        byte first = bytes.Length == info.Length ? bytes[^ResetVectorFromTop] : (byte)0;
        if (first is not (JumpFar or JumpNear or JumpShort))
        {
            throw new BootException(
                $"The BIOS image {path} is not a PC BIOS: its reset vector (16 bytes below the top) starts with 0x{first:x2}, not a jump. Is it the right file?");
        }

        return new FirmwareImage(path, bytes);
    }
}
