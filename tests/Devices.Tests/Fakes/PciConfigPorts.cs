using System.Buffers.Binary;
using Platform.Devices.Pci;

namespace Platform.Devices.Tests.Fakes;

/// <summary>Configuration accesses as a guest does them: an address dword to 0xCF8, then data at 0xCFC + (register &amp; 3).</summary>
public sealed class PciConfigPorts(PciHostBridge bridge)
{
    private const ulong Address = 0, Data = 4;

    public static uint ConfigAddress(int device, int register, int bus = 0, int function = 0) =>
        0x8000_0000u | (uint)(bus << 16) | (uint)(device << 11) | (uint)(function << 8) | (uint)(register & 0xFC);

    public void Select(uint address)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, address);
        bridge.Write(Address, b);
    }

    public uint Read32(int device, int register, int function = 0)
    {
        Select(ConfigAddress(device, register, function: function));
        Span<byte> b = stackalloc byte[4];
        bridge.Read(Data, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    public ushort Read16(int device, int register, int function = 0)
    {
        Select(ConfigAddress(device, register, function: function));
        Span<byte> b = stackalloc byte[2];
        bridge.Read(Data + (ulong)(register & 3), b);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }

    public byte Read8(int device, int register, int function = 0)
    {
        Select(ConfigAddress(device, register, function: function));
        Span<byte> b = stackalloc byte[1];
        bridge.Read(Data + (ulong)(register & 3), b);
        return b[0];
    }

    public void Write32(int device, int register, uint value, int function = 0)
    {
        Select(ConfigAddress(device, register, function: function));
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        bridge.Write(Data, b);
    }

    public void Write16(int device, int register, ushort value, int function = 0)
    {
        Select(ConfigAddress(device, register, function: function));
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        bridge.Write(Data + (ulong)(register & 3), b);
    }

    public void Write8(int device, int register, byte value, int function = 0)
    {
        Select(ConfigAddress(device, register, function: function));
        bridge.Write(Data + (ulong)(register & 3), [value]);
    }

    /// <summary>Walks the capability list from 0x34 and returns the offset of capability <paramref name="id"/>, or 0.</summary>
    public int FindCapability(int device, byte id, int skip = 0)
    {
        int offset = Read8(device, PciRegisters.CapabilitiesPointer) & 0xFC;
        for (int guard = 0; offset != 0 && guard < 48; guard++)
        {
            if (Read8(device, offset) == id && skip-- == 0)
            {
                return offset;
            }

            offset = Read8(device, offset + 1) & 0xFC;
        }

        return 0;
    }

    /// <summary>Sizes BAR <paramref name="index"/> the way Linux does: save, write all ones, read, restore.</summary>
    public ulong SizeBar(int device, int index)
    {
        int register = PciRegisters.Bar0 + (4 * index);
        uint saved = Read32(device, register);
        Write32(device, register, 0xFFFF_FFFF);
        uint low = Read32(device, register);
        Write32(device, register, saved);
        ulong mask = low & 0xFFFF_FFF0u;
        if ((saved & 0b110) == PciRegisters.BarMemory64Bit)
        {
            uint savedHigh = Read32(device, register + 4);
            Write32(device, register + 4, 0xFFFF_FFFF);
            mask |= (ulong)Read32(device, register + 4) << 32;
            Write32(device, register + 4, savedHigh);
        }
        else
        {
            mask |= 0xFFFF_FFFF_0000_0000UL;
        }

        return ~mask + 1;
    }
}
