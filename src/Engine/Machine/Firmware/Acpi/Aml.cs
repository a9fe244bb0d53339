using System.Buffers.Binary;
using System.Text;

namespace Platform.Engine.Machine.Firmware.Acpi;

/// <summary>
/// A small builder of ACPI Machine Language (ACPI 6.x, chapter 20), enough for a DSDT that declares objects: names,
/// scopes, devices, packages, integers, strings, EISA IDs and resource templates, plus the few statements the PCI
/// interrupt link devices need (methods, an operation region and its fields, If, Return, Store, And, Or,
/// CreateDWordField). Each method returns the encoded term, so a namespace is written as nested calls that read like the
/// ASL it stands for.
/// </summary>
/// <remarks>Code stays as small as QEMU's link methods: the table must stay easy to check with <c>iasl -d</c> and easy
/// for SeaBIOS's own DSDT parser, which skips method bodies by their length while it looks for the keyboard's EISA ID.</remarks>
internal static class Aml
{
    private const byte ZeroOp = 0x00, OneOp = 0x01, NameOp = 0x08, BytePrefix = 0x0A, WordPrefix = 0x0B, DWordPrefix = 0x0C,
        StringPrefix = 0x0D, QWordPrefix = 0x0E, ScopeOp = 0x10, BufferOp = 0x11, PackageOp = 0x12, ExtOpPrefix = 0x5B,
        DeviceOp = 0x82, RootChar = 0x5C, ParentPrefixChar = 0x5E, DualNamePrefix = 0x2E, MultiNamePrefix = 0x2F,
        NullName = 0x00, MethodOp = 0x14, StoreOp = 0x70, AndOp = 0x7B, OrOp = 0x7D, CreateDWordFieldOp = 0x8A, IfOp = 0xA0,
        ReturnOp = 0xA4, OpRegionOp = 0x80, FieldOp = 0x81, Arg0Op = 0x68;

    /// <summary>The operation region space of PCI configuration registers (of the device the region's scope is).</summary>
    public const byte PciConfigSpace = 0x02;
    /// <summary>Field flags: ByteAcc, NoLock, Preserve.</summary>
    public const byte ByteAccNoLockPreserve = 0x01;
    private const byte ExtendedInterruptDescriptor = 0x89, Memory32FixedDescriptor = 0x86, DWordAddressSpaceDescriptor = 0x87, WordAddressSpaceDescriptor = 0x88;
    // Address space general flags: the bridge produces the range (bit 0 clear), min and max fixed (bits 2, 3), positive decode.
    private const byte ProducerMinMaxFixed = 0b1100;

    // Small resource descriptors: the tag byte is type << 3 | length.
    private const byte IrqDescriptorNoFlags = (0x04 << 3) | 2, IoPortDescriptor = (0x08 << 3) | 7, EndTag = (0x0F << 3) | 1;
    private const byte IoDecode16 = 1;

    /// <summary><c>Name(path, value)</c>.</summary>
    public static byte[] Name(string path, byte[] value) => [NameOp, .. NameString(path), .. value];

    /// <summary><c>Scope(path) { terms }</c>.</summary>
    public static byte[] Scope(string path, params byte[][] terms) => [ScopeOp, .. WithPackageLength([.. NameString(path), .. Concat(terms)])];

    /// <summary><c>Device(path) { terms }</c>.</summary>
    public static byte[] Device(string path, params byte[][] terms) =>
        [ExtOpPrefix, DeviceOp, .. WithPackageLength([.. NameString(path), .. Concat(terms)])];

    /// <summary><c>Package() { elements }</c> (at most 255 elements).</summary>
    public static byte[] Package(params byte[][] elements)
    {
        if (elements.Length > byte.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(elements), $"A Package holds at most 255 elements, not {elements.Length}.");
        }

        return [PackageOp, .. WithPackageLength([(byte)elements.Length, .. Concat(elements)])];
    }

    /// <summary>An integer in the shortest encoding.</summary>
    public static byte[] Integer(ulong value)
    {
        switch (value)
        {
            case 0:
                return [ZeroOp];
            case 1:
                return [OneOp];
            case <= byte.MaxValue:
                return [BytePrefix, (byte)value];
            case <= ushort.MaxValue:
            {
                byte[] word = [WordPrefix, 0, 0];
                BinaryPrimitives.WriteUInt16LittleEndian(word.AsSpan(1), (ushort)value);
                return word;
            }

            case <= uint.MaxValue:
                return DWord((uint)value);
            default:
            {
                byte[] qword = new byte[9];
                qword[0] = QWordPrefix;
                BinaryPrimitives.WriteUInt64LittleEndian(qword.AsSpan(1), value);
                return qword;
            }
        }
    }

    /// <summary>A string of printable ASCII.</summary>
    public static byte[] String(string value)
    {
        if (value.Any(c => c is < ' ' or > '~'))
        {
            throw new ArgumentException($"\"{value}\" is not printable ASCII.", nameof(value));
        }

        return [StringPrefix, .. Encoding.ASCII.GetBytes(value), 0];
    }

    /// <summary>
    /// <c>EisaId("PNP0A03")</c>: three upper-case letters in five bits each and four hex digits, stored byte-swapped as
    /// a DWord, the compressed form every PNP ID in a DSDT takes.
    /// </summary>
    public static byte[] EisaId(string id)
    {
        if (id.Length != 7 || !id[..3].All(c => c is >= 'A' and <= 'Z') || !id[3..].All(Uri.IsHexDigit))
        {
            throw new ArgumentException($"\"{id}\" is not an EISA ID (three capital letters, four hex digits).", nameof(id));
        }

        uint value = ((uint)(id[0] - '@') << 26) | ((uint)(id[1] - '@') << 21) | ((uint)(id[2] - '@') << 16)
            | Convert.ToUInt32(id[3..], 16);
        return DWord(BinaryPrimitives.ReverseEndianness(value));
    }

    /// <summary><c>Buffer() { bytes }</c>.</summary>
    public static byte[] Buffer(ReadOnlySpan<byte> bytes) => [BufferOp, .. WithPackageLength([.. Integer((ulong)bytes.Length), .. bytes])];

    /// <summary><c>ResourceTemplate() { descriptors }</c>: a buffer of descriptors closed by an end tag (checksum 0: "not summed").</summary>
    public static byte[] ResourceTemplate(params byte[][] descriptors) => Buffer([.. Concat(descriptors), EndTag, 0]);

    /// <summary><c>IO(Decode16, port, port, 1, length)</c>: a fixed range of I/O ports.</summary>
    public static byte[] Io(ushort port, byte length) =>
        [IoPortDescriptor, IoDecode16, (byte)port, (byte)(port >> 8), (byte)port, (byte)(port >> 8), 1, length];

    /// <summary><c>IRQNoFlags() { irq }</c>: an edge-triggered, active-high ISA IRQ.</summary>
    public static byte[] IrqNoFlags(int irq)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)irq, 15u, nameof(irq));
        ushort mask = (ushort)(1 << irq);
        return [IrqDescriptorNoFlags, (byte)mask, (byte)(mask >> 8)];
    }

    /// <summary><c>Memory32Fixed(ReadOnly|ReadWrite, base, length)</c>: a fixed range of memory a device decodes.</summary>
    public static byte[] Memory32Fixed(bool writable, uint address, uint length) =>
        [Memory32FixedDescriptor, 9, 0, (byte)(writable ? 1 : 0),
         (byte)address, (byte)(address >> 8), (byte)(address >> 16), (byte)(address >> 24),
         (byte)length, (byte)(length >> 8), (byte)(length >> 16), (byte)(length >> 24)];

    /// <summary>
    /// A word address space descriptor a bridge produces (<c>WordBusNumber</c>, <c>WordIO</c>): the fixed range
    /// [<paramref name="min"/>, <paramref name="max"/>], decoded positively, no translation.
    /// </summary>
    /// <param name="kind">What the range is: I/O ports or bus numbers.</param>
    public static byte[] WordAddressSpace(AddressSpaceKind kind, ushort min, ushort max)
    {
        if (min > max)
        {
            throw new ArgumentOutOfRangeException(nameof(max), $"The range 0x{min:x}-0x{max:x} is empty.");
        }

        // I/O: the whole range, ISA aliases included (_RNG = EntireRange); bus numbers have no type flags.
        byte typeFlags = kind == AddressSpaceKind.Io ? (byte)0b11 : (byte)0;
        var bytes = new List<byte> { WordAddressSpaceDescriptor, 13, 0, (byte)kind, ProducerMinMaxFixed, typeFlags };
        foreach (ushort field in new[] { (ushort)0, min, max, (ushort)0, (ushort)(max - min + 1) })
        {
            bytes.AddRange([(byte)field, (byte)(field >> 8)]);
        }

        return [.. bytes];
    }

    /// <summary>
    /// <c>DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable|NonCacheable, ReadWrite, 0, min, max, 0,
    /// length)</c>: a memory window a bridge forwards.
    /// </summary>
    public static byte[] DWordMemory(bool cacheable, uint min, uint max)
    {
        if (min > max)
        {
            throw new ArgumentOutOfRangeException(nameof(max), $"The range 0x{min:x}-0x{max:x} is empty.");
        }

        byte typeFlags = (byte)(1 | (cacheable ? 1 << 1 : 0)); // bit 0: read-write; bits 2-1: 1 cacheable, 0 not
        var bytes = new List<byte> { DWordAddressSpaceDescriptor, 23, 0, (byte)AddressSpaceKind.Memory, ProducerMinMaxFixed, typeFlags };
        foreach (uint field in new[] { 0u, min, max, 0u, max - min + 1 })
        {
            bytes.AddRange([(byte)field, (byte)(field >> 8), (byte)(field >> 16), (byte)(field >> 24)]);
        }

        return [.. bytes];
    }

    /// <summary>
    /// <c>Interrupt(ResourceConsumer, Level|Edge, ActiveHigh|ActiveLow, Shared|Exclusive) { irqs }</c>: the extended
    /// interrupt descriptor PCI interrupt links use.
    /// </summary>
    public static byte[] Interrupt(bool level, bool activeHigh, bool shared, params uint[] irqs)
    {
        byte flags = (byte)(1 | (level ? 0 : 2) | (activeHigh ? 0 : 4) | (shared ? 8 : 0)); // bit 0: consumer
        int length = 2 + (4 * irqs.Length);
        var bytes = new List<byte> { ExtendedInterruptDescriptor, (byte)length, (byte)(length >> 8), flags, checked((byte)irqs.Length) };
        foreach (uint irq in irqs)
        {
            bytes.AddRange([(byte)irq, (byte)(irq >> 8), (byte)(irq >> 16), (byte)(irq >> 24)]);
        }

        return [.. bytes];
    }

    /// <summary><c>Method(name, args, Serialized|NotSerialized) { terms }</c>.</summary>
    public static byte[] Method(string name, int argumentCount, bool serialized, params byte[][] terms)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)argumentCount, 7u, nameof(argumentCount));
        return [MethodOp, .. WithPackageLength([.. NameString(name), (byte)(argumentCount | (serialized ? 0x08 : 0)), .. Concat(terms)])];
    }

    /// <summary><c>OperationRegion(name, space, offset, length)</c>.</summary>
    public static byte[] OperationRegion(string name, byte space, ulong offset, ulong length) =>
        [ExtOpPrefix, OpRegionOp, .. NameString(name), space, .. Integer(offset), .. Integer(length)];

    /// <summary><c>Field(region, flags) { name, bits, ... }</c>, the fields laid out one after another from bit 0.</summary>
    public static byte[] Field(string region, byte flags, params (string Name, int Bits)[] fields)
    {
        var list = new List<byte>();
        foreach (var (name, bits) in fields)
        {
            if (name.Length != 4)
            {
                throw new ArgumentException($"A field name is one four-character segment, not \"{name}\".", nameof(fields));
            }

            list.AddRange(NameString(name));
            list.AddRange(FieldWidth(bits));
        }

        return [ExtOpPrefix, FieldOp, .. WithPackageLength([.. NameString(region), flags, .. list])];
    }

    /// <summary><c>If(predicate) { terms }</c>.</summary>
    public static byte[] If(byte[] predicate, params byte[][] terms) => [IfOp, .. WithPackageLength([.. predicate, .. Concat(terms)])];

    /// <summary><c>Return(value)</c>.</summary>
    public static byte[] Return(byte[] value) => [ReturnOp, .. value];

    /// <summary><c>Store(source, destination)</c> (ASL+: <c>destination = source</c>).</summary>
    public static byte[] Store(byte[] source, byte[] destination) => [StoreOp, .. source, .. destination];

    /// <summary><c>And(a, b, target)</c>; <paramref name="target"/> null: no target (the result is only a value).</summary>
    public static byte[] And(byte[] a, byte[] b, byte[]? target = null) => [AndOp, .. a, .. b, .. target ?? [NullName]];

    /// <summary><c>Or(a, b, target)</c>; <paramref name="target"/> null: no target.</summary>
    public static byte[] Or(byte[] a, byte[] b, byte[]? target = null) => [OrOp, .. a, .. b, .. target ?? [NullName]];

    /// <summary><c>CreateDWordField(buffer, byteIndex, name)</c>.</summary>
    public static byte[] CreateDWordField(byte[] buffer, ulong byteIndex, string name) =>
        [CreateDWordFieldOp, .. buffer, .. Integer(byteIndex), .. NameString(name)];

    /// <summary><c>ArgN</c>, a method's argument.</summary>
    public static byte[] Arg(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)index, 6u, nameof(index));
        return [(byte)(Arg0Op + index)];
    }

    /// <summary>A call of the method <paramref name="name"/> (defined earlier in the table, so its argument count is known).</summary>
    public static byte[] Call(string name, params byte[][] arguments) => [.. NameString(name), .. Concat(arguments)];

    /// <summary>
    /// A name path: an optional root (<c>\</c>) or parent prefixes (<c>^</c>), then dot-separated segments of up to four
    /// characters (upper-case letters, digits, <c>_</c>; not a digit first), each padded with <c>_</c>.
    /// </summary>
    public static byte[] NameString(string path)
    {
        var bytes = new List<byte>();
        int at = 0;
        if (path.StartsWith('\\'))
        {
            bytes.Add(RootChar);
            at = 1;
        }
        else
        {
            while (at < path.Length && path[at] == '^')
            {
                bytes.Add(ParentPrefixChar);
                at++;
            }
        }

        string[] segments = at == path.Length ? [] : path[at..].Split('.');
        foreach (string segment in segments)
        {
            if (segment.Length is 0 or > 4 || !(segment[0] is '_' or >= 'A' and <= 'Z')
                || !segment.All(c => c is '_' or >= 'A' and <= 'Z' or >= '0' and <= '9'))
            {
                throw new ArgumentException($"\"{segment}\" in \"{path}\" is not an ACPI name segment.", nameof(path));
            }
        }

        switch (segments.Length)
        {
            case 0:
                bytes.Add(NullName);
                break;
            case 1:
                break;
            case 2:
                bytes.Add(DualNamePrefix);
                break;
            default:
                bytes.Add(MultiNamePrefix);
                bytes.Add(checked((byte)segments.Length));
                break;
        }

        foreach (string segment in segments)
        {
            bytes.AddRange(Encoding.ASCII.GetBytes(segment.PadRight(4, '_')));
        }

        return [.. bytes];
    }

    /// <summary>
    /// Prefixes <paramref name="body"/> with its PkgLength, which counts itself: one byte up to 63 in all, otherwise a lead
    /// byte (the count of bytes that follow in bits 7–6, the length's low nibble in bits 3–0) and the rest of the length
    /// eight bits at a time.
    /// </summary>
    public static byte[] WithPackageLength(ReadOnlySpan<byte> body)
    {
        for (int size = 1; size <= 4; size++)
        {
            int total = body.Length + size;
            int limit = size == 1 ? 0x3F : (1 << (4 + (8 * (size - 1)))) - 1;
            if (total > limit)
            {
                continue;
            }

            byte[] encoded = new byte[total];
            if (size == 1)
            {
                encoded[0] = (byte)total;
            }
            else
            {
                encoded[0] = (byte)(((size - 1) << 6) | (total & 0x0F));
                for (int i = 1; i < size; i++)
                {
                    encoded[i] = (byte)(total >> (4 + (8 * (i - 1))));
                }
            }

            body.CopyTo(encoded.AsSpan(size));
            return encoded;
        }

        throw new ArgumentOutOfRangeException(nameof(body), $"{body.Length} bytes is more than a PkgLength can count.");
    }

    /// <summary>A named field's width in bits, in PkgLength's encoding (which here counts bits, not itself).</summary>
    private static byte[] FieldWidth(int bits)
    {
        if (bits is < 1 or > 0x0FFF_FFFF)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), $"A field of {bits} bits cannot be encoded.");
        }

        if (bits <= 0x3F)
        {
            return [(byte)bits];
        }

        int extra = bits <= 0xFFF ? 1 : bits <= 0xF_FFFF ? 2 : 3;
        byte[] encoded = new byte[extra + 1];
        encoded[0] = (byte)((extra << 6) | (bits & 0x0F));
        for (int i = 1; i <= extra; i++)
        {
            encoded[i] = (byte)(bits >> (4 + (8 * (i - 1))));
        }

        return encoded;
    }

    private static byte[] DWord(uint value)
    {
        byte[] dword = [DWordPrefix, 0, 0, 0, 0];
        BinaryPrimitives.WriteUInt32LittleEndian(dword.AsSpan(1), value);
        return dword;
    }

    private static byte[] Concat(byte[][] parts) => [.. parts.SelectMany(p => p)];
}

/// <summary>The resource type of an address space descriptor (ACPI 6.x, 6.4.3.5).</summary>
internal enum AddressSpaceKind : byte
{
    Memory = 0,
    Io = 1,
    BusNumber = 2,
}
