using System.Buffers.Binary;
using System.Text;

namespace Platform.Engine.Machine.Firmware;

/// <summary>
/// SMBIOS 2.8 structures and their entry point for fw_cfg's <c>etc/smbios/smbios-tables</c> and
/// <c>etc/smbios/smbios-anchor</c>, the structures QEMU's pc machine hands SeaBIOS: system (1), chassis (3), one
/// processor per vCPU (4), the memory array (16), its devices (17, 16 GiB each) and mappings (19), boot information (32)
/// and the end (127). SeaBIOS adds its own BIOS structure (0), places the tables and fixes the address and checksums.
/// </summary>
/// <remarks>
/// Without these files SeaBIOS builds tables itself and looks for a fw_cfg file per structure type while doing it, which
/// costs about a quarter of a second of emulated real-mode work under PVM. Layouts follow DMTF DSP0134 3.x for version
/// 2.8; each structure is its formatted part, then its strings, each NUL-terminated, then one more NUL (two with none).
/// </remarks>
internal static class SmbiosTables
{
    public const string Manufacturer = "Platform";
    public const string Product = "Platform VM (i440FX + PIIX, 1996)";
    public const string Version = "pc-i440fx";

    private const int EntryPointLength = 0x1F;
    private const ulong MemoryDeviceBytes = 16UL << 30; // one type 17 per 16 GiB, as QEMU and SeaBIOS split it

    /// <summary>The structures, and the entry point that describes them (address 0: SeaBIOS puts them somewhere and says so).</summary>
    /// <param name="processorId">CPUID leaf 1's EAX (low half) and EDX (high half), as type 4's processor ID.</param>
    public static (byte[] Tables, byte[] Anchor) Build(ulong memoryBelow4GiB, ulong memoryAbove4GiB, int cpuCount, ulong processorId)
    {
        var structures = new List<byte[]>
        {
            SystemInformation(),
            Chassis(),
        };
        for (int cpu = 0; cpu < cpuCount; cpu++)
        {
            structures.Add(Processor(cpu, processorId));
        }

        ulong ram = memoryBelow4GiB + memoryAbove4GiB;
        int devices = (int)((ram + MemoryDeviceBytes - 1) / MemoryDeviceBytes);
        structures.Add(MemoryArray(ram, devices));
        for (int i = 0; i < devices; i++)
        {
            structures.Add(MemoryDevice(i, Math.Min(MemoryDeviceBytes, ram - ((ulong)i * MemoryDeviceBytes))));
        }

        structures.Add(MappedAddress(0, 0, memoryBelow4GiB));
        if (memoryAbove4GiB > 0)
        {
            structures.Add(MappedAddress(1, 1UL << 32, memoryAbove4GiB));
        }

        structures.Add(Structure(32, 0x2000, new byte[7], [])); // boot information: 6 reserved bytes, "no errors"
        structures.Add(Structure(127, 0x7F00, [], []));

        byte[] tables = [.. structures.SelectMany(s => s)];
        return (tables, EntryPoint(tables.Length, structures.Max(s => s.Length), structures.Count));
    }

    /// <summary>The 31-byte "_SM_" entry point of SMBIOS 2.8, checksums valid with the table address 0.</summary>
    private static byte[] EntryPoint(int tablesLength, int maxStructure, int count)
    {
        byte[] ep = new byte[EntryPointLength];
        "_SM_"u8.CopyTo(ep);
        ep[5] = EntryPointLength;
        ep[6] = 2;
        ep[7] = 8;
        BinaryPrimitives.WriteUInt16LittleEndian(ep.AsSpan(8), (ushort)maxStructure);
        "_DMI_"u8.CopyTo(ep.AsSpan(0x10));
        BinaryPrimitives.WriteUInt16LittleEndian(ep.AsSpan(0x16), (ushort)tablesLength);
        BinaryPrimitives.WriteUInt16LittleEndian(ep.AsSpan(0x1C), (ushort)count);
        ep[0x1E] = 0x28; // BCD revision 2.8
        ep[0x15] = Checksum(ep.AsSpan(0x10, EntryPointLength - 0x10));
        ep[4] = Checksum(ep);
        return ep;
    }

    private static byte[] SystemInformation()
    {
        byte[] f = new byte[0x1B - 4];
        f[0] = 1; // manufacturer
        f[1] = 2; // product
        f[2] = 3; // version
        // serial 0, UUID (16 bytes at 0x08) zero, as QEMU's default
        f[0x18 - 4] = 0x06; // woken by the power switch
        return Structure(1, 0x0100, f, [Manufacturer, Product, Version]);
    }

    private static byte[] Chassis()
    {
        byte[] f = new byte[0x16 - 4];
        f[0] = 1;       // manufacturer
        f[1] = 0x01;    // type: other
        f[2] = 2;       // version
        f[5] = 0x03;    // boot-up state: safe
        f[6] = 0x03;    // power supply: safe
        f[7] = 0x03;    // thermal: safe
        f[8] = 0x02;    // security: unknown
        return Structure(3, 0x0300, f, [Manufacturer, Version]);
    }

    private static byte[] Processor(int cpu, ulong processorId)
    {
        byte[] f = new byte[0x2A - 4];
        f[0] = 1;       // socket designation
        f[1] = 0x03;    // central processor
        f[2] = 0x01;    // family: other (see family 2)
        f[3] = 2;       // manufacturer
        BinaryPrimitives.WriteUInt64LittleEndian(f.AsSpan(0x08 - 4), processorId);
        f[0x10 - 4] = 3; // version
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x14 - 4), 2000); // max speed, MHz (QEMU's default)
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x16 - 4), 2000); // current speed
        f[0x18 - 4] = 0x41; // socket populated, CPU enabled
        f[0x19 - 4] = 0x01; // upgrade: other
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x1A - 4), 0xFFFF); // no L1, L2, L3 cache structures
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x1C - 4), 0xFFFF);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x1E - 4), 0xFFFF);
        f[0x23 - 4] = 1;    // cores
        f[0x24 - 4] = 1;    // cores enabled
        f[0x25 - 4] = 1;    // threads
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x26 - 4), 0x02); // characteristics: unknown
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x28 - 4), 0x01); // family 2: other
        return Structure(4, (ushort)(0x0400 + cpu), f, [$"CPU {cpu}", Manufacturer, Version]);
    }

    private static byte[] MemoryArray(ulong ram, int devices)
    {
        byte[] f = new byte[0x17 - 4];
        f[0] = 0x01;    // location: other
        f[1] = 0x03;    // use: system memory
        f[2] = 0x06;    // error correction: multi-bit ECC (QEMU's)
        ulong kib = ram >> 10;
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x07 - 4), kib < 0x8000_0000 ? (uint)kib : 0x8000_0000); // else extended
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x0B - 4), 0xFFFE); // no error information
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x0D - 4), (ushort)devices);
        BinaryPrimitives.WriteUInt64LittleEndian(f.AsSpan(0x0F - 4), kib < 0x8000_0000 ? 0 : ram);
        return Structure(16, 0x1000, f, []);
    }

    private static byte[] MemoryDevice(int index, ulong bytes)
    {
        byte[] f = new byte[0x28 - 4];
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x04 - 4), 0x1000); // the array
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x06 - 4), 0xFFFE);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x08 - 4), 0xFFFF); // widths unknown
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x0A - 4), 0xFFFF);
        ulong mib = bytes >> 20;
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x0C - 4), mib < 0x7FFF ? (ushort)mib : (ushort)0x7FFF);
        f[0x0E - 4] = 0x09;    // form factor: DIMM
        f[0x10 - 4] = 1;       // device locator
        f[0x12 - 4] = 0x07;    // type: RAM
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x13 - 4), 0x02); // detail: other
        f[0x17 - 4] = 2;       // manufacturer
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x1C - 4), mib < 0x7FFF ? 0 : (uint)mib); // extended size
        return Structure(17, (ushort)(0x1100 + index), f, [$"DIMM {index}", Manufacturer]);
    }

    private static byte[] MappedAddress(int index, ulong start, ulong bytes)
    {
        byte[] f = new byte[0x1F - 4];
        ulong startKib = start >> 10, endKib = ((start + bytes) >> 10) - 1;
        bool extended = endKib > 0xFFFF_FFFE;
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x04 - 4), extended ? 0xFFFF_FFFF : (uint)startKib);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0x08 - 4), extended ? 0xFFFF_FFFF : (uint)endKib);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(0x0C - 4), 0x1000);
        f[0x0E - 4] = 1; // partition width
        BinaryPrimitives.WriteUInt64LittleEndian(f.AsSpan(0x0F - 4), extended ? start : 0);
        BinaryPrimitives.WriteUInt64LittleEndian(f.AsSpan(0x17 - 4), extended ? start + bytes - 1 : 0);
        return Structure(19, (ushort)(0x1300 + index), f, []);
    }

    /// <summary>Header (type, length, handle), the formatted fields after it, then the strings and the double NUL.</summary>
    private static byte[] Structure(byte type, ushort handle, byte[] fields, string[] strings)
    {
        var bytes = new List<byte>(4 + fields.Length + 32) { type, (byte)(4 + fields.Length), (byte)handle, (byte)(handle >> 8) };
        bytes.AddRange(fields);
        foreach (string s in strings)
        {
            bytes.AddRange(Encoding.ASCII.GetBytes(s));
            bytes.Add(0);
        }

        bytes.Add(0);
        if (strings.Length == 0)
        {
            bytes.Add(0);
        }

        return [.. bytes];
    }

    private static byte Checksum(ReadOnlySpan<byte> bytes)
    {
        byte sum = 0;
        foreach (byte b in bytes)
        {
            sum += b;
        }

        return (byte)-sum;
    }
}
