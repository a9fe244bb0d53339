namespace Platform.Engine.Boot;

/// <summary>
/// A PCI option ROM read and checked before a machine is built: the VGA BIOS (<c>vgabios-stdvga.bin</c> from Debian's
/// seabios package) that SeaBIOS copies below 1 MiB and runs so that int 10h works on the std-vga.
/// </summary>
/// <remarks>
/// An option ROM starts with 0x55 0xAA and its length in 512-byte blocks; SeaBIOS skips a file without that header
/// silently, which would leave a blank screen with no reason given, so the check is made here with a message.
/// </remarks>
public sealed class OptionRomImage
{
    /// <summary>The file name of the std-vga's VGA BIOS, looked for beside the BIOS image as QEMU looks in its data folder.</summary>
    public const string StdVgaBiosFileName = "vgabios-stdvga.bin";

    /// <summary>Option ROMs live in 0xC0000–0xEFFFF: nothing larger can run.</summary>
    public const int MaxSize = 192 << 10;

    private const int BlockSize = 512;

    private OptionRomImage(string path, byte[] bytes)
    {
        Path = path;
        Bytes = bytes;
    }

    public string Path { get; }

    public byte[] Bytes { get; }

    /// <summary>The std-vga's VGA BIOS for a machine whose BIOS image is <paramref name="biosPath"/>: the file beside it.</summary>
    public static string StdVgaBiosBeside(string biosPath) =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(biosPath)) ?? "/", StdVgaBiosFileName);

    /// <summary>Reads and checks <paramref name="path"/>; a <see cref="BootException"/> says what is wrong and what to do.</summary>
    public static OptionRomImage Load(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new BootException(
                    $"The VGA BIOS {path} does not exist: a BIOS machine with a display needs it beside the BIOS image (Debian's seabios package installs both), or use --display none.");
            }

            if (info.Length is < BlockSize or > MaxSize)
            {
                throw new BootException($"The VGA BIOS {path} is {info.Length} bytes; an option ROM is 512 bytes to 192 KiB.");
            }

            bytes = Platform.Devices.Storage.KeptFiles.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BootException($"Cannot read the VGA BIOS {path}: {ex.Message}", ex);
        }

        if (bytes[0] != 0x55 || bytes[1] != 0xAA || bytes[2] * BlockSize > bytes.Length)
        {
            throw new BootException(
                $"The VGA BIOS {path} is not an option ROM: it must start with 0x55 0xAA and its length in 512-byte blocks. Is it the right file?");
        }

        return new OptionRomImage(path, bytes);
    }
}
