using System.Buffers.Binary;
using System.Text;

namespace Platform.Engine.Boot;

/// <summary>
/// An ELF kernel (ELF32 or ELF64, x86) with a PVH entry note: its loadable segments by physical address and the
/// 32-bit entry from the <c>XEN_ELFNOTE_PHYS32_ENTRY</c> note. Parsing is separate from loading so tests can check
/// the Debian vmlinux without a VM.
/// </summary>
public sealed class ElfKernel
{
    private const uint PtLoad = 1;
    private const uint PtNote = 4;
    private const uint XenElfNotePhys32Entry = 18;
    private const ushort MachineI386 = 3;
    private const ushort MachineX8664 = 62;

    private ElfKernel(IReadOnlyList<ElfSegment> segments, uint pvhEntry)
    {
        Segments = segments;
        PvhEntry = pvhEntry;
    }

    public IReadOnlyList<ElfSegment> Segments { get; }

    public uint PvhEntry { get; }

    public ulong LowestAddress => Segments.Min(s => s.PhysicalAddress);

    public ulong HighestAddress => Segments.Max(s => s.PhysicalAddress + s.MemorySize);

    public static bool LooksLikeElf(ReadOnlySpan<byte> image) =>
        image.Length >= 4 && image[0] == 0x7F && image[1] == (byte)'E' && image[2] == (byte)'L' && image[3] == (byte)'F';

    public static ElfKernel Parse(ReadOnlySpan<byte> image)
    {
        if (!LooksLikeElf(image) || image.Length < 52)
        {
            throw new BootException("The kernel is not an ELF file.");
        }

        bool is64 = image[4] switch
        {
            1 => false,
            2 => true,
            _ => throw new BootException($"ELF class {image[4]} is neither 32- nor 64-bit."),
        };
        if (image[5] != 1)
        {
            throw new BootException("The ELF kernel is big-endian; only little-endian x86 kernels boot.");
        }

        if (is64 && image.Length < 64)
        {
            throw new BootException("The ELF header is truncated.");
        }

        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(image[18..]);
        if (machine is not (MachineI386 or MachineX8664))
        {
            throw new BootException($"The ELF kernel is for machine {machine}, not x86.");
        }

        ulong phoff = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(image[0x20..]) : BinaryPrimitives.ReadUInt32LittleEndian(image[0x1C..]);
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(image[(is64 ? 0x36 : 0x2A)..]);
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(image[(is64 ? 0x38 : 0x2C)..]);
        int minEntry = is64 ? 56 : 32;
        if (phnum == 0 || phentsize < minEntry || phoff > (ulong)image.Length || (ulong)phnum * (ulong)phentsize > (ulong)image.Length - phoff)
        {
            throw new BootException("The ELF program headers are missing or truncated.");
        }

        var segments = new List<ElfSegment>();
        uint? entry = null;
        for (int i = 0; i < phnum; i++)
        {
            var ph = image.Slice((int)phoff + i * phentsize, phentsize);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(ph);
            ulong offset, paddr, filesz, memsz;
            if (is64)
            {
                offset = BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]);
                paddr = BinaryPrimitives.ReadUInt64LittleEndian(ph[24..]);
                filesz = BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]);
                memsz = BinaryPrimitives.ReadUInt64LittleEndian(ph[40..]);
            }
            else
            {
                offset = BinaryPrimitives.ReadUInt32LittleEndian(ph[4..]);
                paddr = BinaryPrimitives.ReadUInt32LittleEndian(ph[12..]);
                filesz = BinaryPrimitives.ReadUInt32LittleEndian(ph[16..]);
                memsz = BinaryPrimitives.ReadUInt32LittleEndian(ph[20..]);
            }

            if (offset > (ulong)image.Length || filesz > (ulong)image.Length - offset)
            {
                throw new BootException($"ELF segment {i} runs past the end of the file: the kernel is truncated.");
            }

            if (type == PtLoad && memsz > 0)
            {
                if (filesz > memsz || paddr + memsz < paddr)
                {
                    throw new BootException($"ELF segment {i} has impossible sizes.");
                }

                segments.Add(new ElfSegment(offset, paddr, filesz, memsz));
            }
            else if (type == PtNote)
            {
                entry ??= FindPvhEntry(image.Slice((int)offset, (int)filesz));
            }
        }

        if (segments.Count == 0)
        {
            throw new BootException("The ELF kernel has no loadable segments.");
        }

        if (entry is null)
        {
            throw new BootException(
                "The ELF kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): build Linux with CONFIG_PVH=y, or boot the bzImage.");
        }

        return new ElfKernel(segments, entry.Value);
    }

    private static uint? FindPvhEntry(ReadOnlySpan<byte> notes)
    {
        while (notes.Length >= 12)
        {
            uint nameSize = BinaryPrimitives.ReadUInt32LittleEndian(notes);
            uint descSize = BinaryPrimitives.ReadUInt32LittleEndian(notes[4..]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(notes[8..]);
            ulong nameEnd = 12 + Align4(nameSize);
            ulong descEnd = nameEnd + Align4(descSize);
            if (descEnd > (ulong)notes.Length)
            {
                return null;
            }

            var name = notes.Slice(12, (int)nameSize).TrimEnd((byte)0);
            if (type == XenElfNotePhys32Entry && name.SequenceEqual("Xen"u8) && descSize >= 4)
            {
                return BinaryPrimitives.ReadUInt32LittleEndian(notes[(int)nameEnd..]);
            }

            notes = notes[(int)descEnd..];
        }

        return null;
    }

    private static ulong Align4(uint value) => ((ulong)value + 3) & ~3ul;

    public override string ToString()
    {
        var text = new StringBuilder($"ELF kernel, PVH entry 0x{PvhEntry:x}");
        foreach (var s in Segments)
        {
            text.Append($"; 0x{s.PhysicalAddress:x}+0x{s.MemorySize:x}");
        }

        return text.ToString();
    }
}

public readonly record struct ElfSegment(ulong FileOffset, ulong PhysicalAddress, ulong FileSize, ulong MemorySize);
