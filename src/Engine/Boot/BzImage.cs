using System.Buffers.Binary;

namespace Platform.Engine.Boot;

/// <summary>
/// The setup header of a Linux bzImage (Documentation/arch/x86/boot.rst): what the loader must read before
/// placing the kernel, and the bytes it copies into the zero page.
/// </summary>
public sealed class BzImage
{
    public const int SetupHeaderOffset = 0x1F1;
    public const uint HeaderMagic = 0x53726448; // "HdrS"
    public const ushort MinimumProtocol = 0x0206;
    private const ushort XlfKernel64 = 1 << 0;
    private const byte LoadedHigh = 1 << 0;
    /// <summary>pref_address and init_size came with boot protocol 2.10.</summary>
    private const ushort RuntimeWindowProtocol = 0x020A;

    private BzImage(byte[] setupHeader, int setupSectors, ushort protocol, uint initrdAddressMax, uint commandLineSize,
        ushort xloadflags, byte loadflags, long kernelOffset, RuntimeWindow window)
    {
        Window = window;
        SetupHeader = setupHeader;
        SetupSectors = setupSectors;
        Protocol = protocol;
        InitrdAddressMax = initrdAddressMax;
        CommandLineSize = commandLineSize;
        XLoadFlags = xloadflags;
        LoadFlags = loadflags;
        KernelOffset = kernelOffset;
    }

    /// <summary>Bytes 0x1F1 up to the end of the header, as the kernel wrote them; copied into the zero page.</summary>
    public byte[] SetupHeader { get; }

    public int SetupSectors { get; }

    public ushort Protocol { get; }

    public uint InitrdAddressMax { get; }

    public uint CommandLineSize { get; }

    public ushort XLoadFlags { get; }

    public byte LoadFlags { get; }

    /// <summary>File offset of the protected-mode kernel: (setup_sects + 1) × 512.</summary>
    public long KernelOffset { get; }

    public bool Supports64BitEntry => (XLoadFlags & XlfKernel64) != 0;

    /// <summary>
    /// Bytes the kernel needs from its runtime start before it reads the memory map (decompression, .bss, early page
    /// tables); 0 before protocol 2.10, which did not say.
    /// </summary>
    public uint InitSize => Window.InitSize;

    private RuntimeWindow Window { get; }

    /// <summary>
    /// Where the kernel will run when loaded at <paramref name="loadAddress"/>, by the rule of boot.rst (init_size): a
    /// kernel that does not relocate runs at pref_address; one that does moves up to pref_address if loaded below it,
    /// then to the next multiple of kernel_alignment. Before protocol 2.10, the load address.
    /// </summary>
    public ulong RuntimeStart(ulong loadAddress)
    {
        if (Window.InitSize == 0)
        {
            return loadAddress;
        }

        if (!Window.Relocatable)
        {
            return Window.PrefAddress;
        }

        ulong start = Math.Max(loadAddress, Window.PrefAddress);
        ulong alignment = Math.Max(1u, Window.KernelAlignment);
        return (start + alignment - 1) / alignment * alignment;
    }

    public static bool LooksLikeBzImage(ReadOnlySpan<byte> image) =>
        image.Length >= 0x206 && BinaryPrimitives.ReadUInt32LittleEndian(image[0x202..]) == HeaderMagic;

    public static BzImage Parse(ReadOnlySpan<byte> image)
    {
        if (!LooksLikeBzImage(image))
        {
            throw new BootException("The kernel is neither a bzImage (no \"HdrS\" at 0x202) nor an ELF file.");
        }

        ushort protocol = BinaryPrimitives.ReadUInt16LittleEndian(image[0x206..]);
        if (protocol < MinimumProtocol)
        {
            throw new BootException($"Boot protocol {protocol >> 8}.{protocol & 0xFF:D2} is too old; 2.06 or newer is needed.");
        }

        int headerEnd = 0x202 + image[0x201];
        if (image.Length < Math.Max(headerEnd, 0x268))
        {
            throw new BootException("The bzImage setup header is truncated.");
        }

        int setupSectors = image[0x1F1] == 0 ? 4 : image[0x1F1];
        long kernelOffset = (setupSectors + 1) * 512L;
        byte loadflags = image[0x211];
        if ((loadflags & LoadedHigh) == 0)
        {
            throw new BootException("This is a zImage that loads below 1 MiB; only bzImages are supported.");
        }

        if (kernelOffset >= image.Length)
        {
            throw new BootException("The bzImage is truncated: no protected-mode kernel after the setup sectors.");
        }

        var bz = new BzImage(
            image[SetupHeaderOffset..headerEnd].ToArray(),
            setupSectors,
            protocol,
            BinaryPrimitives.ReadUInt32LittleEndian(image[0x22C..]),
            BinaryPrimitives.ReadUInt32LittleEndian(image[0x238..]),
            BinaryPrimitives.ReadUInt16LittleEndian(image[0x236..]),
            loadflags,
            kernelOffset,
            protocol >= RuntimeWindowProtocol
                ? new RuntimeWindow(BinaryPrimitives.ReadUInt64LittleEndian(image[0x258..]), BinaryPrimitives.ReadUInt32LittleEndian(image[0x260..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(image[0x230..]), image[0x234] != 0)
                : new RuntimeWindow(0, 0, 0, false));
        if (!bz.Supports64BitEntry)
        {
            throw new BootException("The bzImage has no 64-bit entry point (XLF_KERNEL_64); a 64-bit kernel is needed.");
        }

        return bz;
    }
}

/// <summary>The header fields that say where a kernel runs and how much room it needs there (protocol 2.10).</summary>
internal readonly record struct RuntimeWindow(ulong PrefAddress, uint InitSize, uint KernelAlignment, bool Relocatable);
