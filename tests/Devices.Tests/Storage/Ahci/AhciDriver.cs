using System.Buffers.Binary;
using Platform.Devices.Pci;
using Platform.Devices.Storage.Ahci;
using Platform.Devices.Tests.Fakes;
using static Platform.Devices.Storage.Ahci.AhciRegisters;

namespace Platform.Devices.Tests.Storage.Ahci;

/// <summary>
/// The guest side of an AHCI port for tests, as SeaBIOS's driver does it: one command list, FIS area and command table
/// in fake guest memory, commands issued in slot 0 and their ends read back from PxIS, PxTFD and the received FISes.
/// </summary>
internal sealed class AhciDriver
{
    public const ulong CommandList = 0x1_0000;
    public const ulong FisArea = 0x1_1000;
    public const ulong CommandTable = 0x1_2000;
    public const ulong DataBuffer = 0x2_0000;

    public AhciDriver(AhciController controller, FakeGuestMemory memory)
    {
        Controller = controller;
        Memory = memory;
        Span<byte> command = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(command, PciRegisters.CommandMemorySpace | PciRegisters.CommandBusMaster);
        controller.WriteConfig(PciRegisters.Command, command);
    }

    public AhciController Controller { get; }

    public FakeGuestMemory Memory { get; }

    public uint Read(int offset)
    {
        Span<byte> data = stackalloc byte[4];
        Controller.ReadBar(AhciController.AbarIndex, (ulong)offset, data);
        return BinaryPrimitives.ReadUInt32LittleEndian(data);
    }

    public void Write(int offset, uint value)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        Controller.WriteBar(AhciController.AbarIndex, (ulong)offset, data);
    }

    public static int Port(int port, int register) => PortBase + (port * PortStride) + register;

    /// <summary>SeaBIOS's port start: list and FIS addresses, FIS receive on, then the list engine.</summary>
    public void StartPort(int port = 0)
    {
        Write(Port(port, PxClb), (uint)CommandList);
        Write(Port(port, PxFb), (uint)FisArea);
        Write(Port(port, PxCmd), CmdFre | CmdSud | CmdPod);
        Write(Port(port, PxCmd), CmdFre | CmdSud | CmdPod | CmdSt);
        Write(Port(port, PxIs), 0xFFFF_FFFF);
    }

    /// <summary>
    /// Issues an ATA command in slot 0 with <paramref name="prds"/> (address, byte count) and waits for nothing: the
    /// port runs it at once. Returns PxIS after it, and clears it.
    /// </summary>
    public uint Issue(byte command, ReadOnlySpan<byte> packet = default, (ulong Address, int Length)[]? prds = null, int port = 0,
        byte fisType = FisRegisterH2D, ulong table = CommandTable, byte features = 0, uint? prdtLength = null)
    {
        prds ??= [(DataBuffer, 4096)];
        Span<byte> header = stackalloc byte[CommandHeaderSize];
        header.Clear();
        uint flags = 5 | (packet.IsEmpty ? 0 : HeaderAtapi) | ((prdtLength ?? (uint)prds.Length) << HeaderPrdtlShift);
        BinaryPrimitives.WriteUInt32LittleEndian(header, flags);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], table);
        Memory.TryWrite(CommandList, header).Should().BeTrue();

        Span<byte> fis = stackalloc byte[64];
        fis.Clear();
        fis[0] = fisType;
        fis[1] = FisCommandBit;
        fis[2] = command;
        fis[3] = features;
        Memory.TryWrite(table, fis);
        Span<byte> acmd = stackalloc byte[16];
        acmd.Clear();
        packet.CopyTo(acmd);
        Memory.TryWrite(table + TableAtapiCommand, acmd);
        Span<byte> entry = stackalloc byte[PrdEntrySize];
        for (int i = 0; i < prds.Length; i++)
        {
            entry.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(entry, prds[i].Address);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[12..], (uint)(prds[i].Length - 1));
            Memory.TryWrite(table + TablePrdt + (ulong)(i * PrdEntrySize), entry);
        }

        Write(Port(port, PxCi), 1);
        Read(Port(port, PxCi)).Should().Be(0, "the port ends each command before the write returns");
        uint status = Read(Port(port, PxIs));
        Write(Port(port, PxIs), status);
        return status;
    }

    /// <summary>
    /// Issues an ATA command with its 48-bit registers in <paramref name="slot"/>, as Linux's libata fills a register
    /// FIS; <paramref name="queued"/> marks the slot in PxSACT first (NCQ). Returns PxIS after it, and clears it.
    /// </summary>
    public uint IssueAta(byte command, ulong lba = 0, ushort count = 0, ushort features = 0, byte device = 0x40,
        (ulong Address, int Length)[]? prds = null, int slot = 0, bool queued = false, uint? prdtLength = null, ulong? table = null)
    {
        prds ??= [(DataBuffer, 4096)];
        ulong tableAddress = table ?? CommandTable + ((ulong)slot * 0x400);
        Span<byte> header = stackalloc byte[CommandHeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, 5 | ((prdtLength ?? (uint)prds.Length) << HeaderPrdtlShift));
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], tableAddress);
        Memory.TryWrite(CommandList + ((ulong)slot * CommandHeaderSize), header).Should().BeTrue();

        Span<byte> fis = stackalloc byte[20];
        fis.Clear();
        fis[0] = FisRegisterH2D;
        fis[1] = FisCommandBit;
        fis[2] = command;
        fis[3] = (byte)features;
        fis[4] = (byte)lba;
        fis[5] = (byte)(lba >> 8);
        fis[6] = (byte)(lba >> 16);
        fis[7] = device;
        fis[8] = (byte)(lba >> 24);
        fis[9] = (byte)(lba >> 32);
        fis[10] = (byte)(lba >> 40);
        fis[11] = (byte)(features >> 8);
        fis[12] = (byte)count;
        fis[13] = (byte)(count >> 8);
        Memory.TryWrite(tableAddress, fis);
        Span<byte> entry = stackalloc byte[PrdEntrySize];
        for (int i = 0; i < prds.Length; i++)
        {
            entry.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(entry, prds[i].Address);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[12..], (uint)(prds[i].Length - 1));
            Memory.TryWrite(tableAddress + TablePrdt + (ulong)(i * PrdEntrySize), entry);
        }

        if (queued)
        {
            Write(Port(0, PxSact), 1u << slot);
        }

        Write(Port(0, PxCi), 1u << slot);
        Read(Port(0, PxCi)).Should().Be(0, "the port ends each command before the write returns");
        uint status = Read(Port(0, PxIs));
        Write(Port(0, PxIs), status);
        return status;
    }

    /// <summary>The Set Device Bits FIS an NCQ command ended with: status, error and the SActive bits it finished.</summary>
    public (byte Status, byte Error, uint Finished) SetDeviceBits()
    {
        byte[] fis = Bytes(FisArea + RxSetDeviceBits, 8);
        fis[0].Should().Be(FisSetDeviceBits);
        return (fis[2], fis[3], BinaryPrimitives.ReadUInt32LittleEndian(fis.AsSpan(4)));
    }

    /// <summary>A PACKET command (DMA) carrying <paramref name="cdb"/>.</summary>
    public uint Packet(ReadOnlySpan<byte> cdb, (ulong Address, int Length)[]? prds = null) =>
        Issue(AtapiCdrom.PacketCommand, cdb, prds, features: 1);

    /// <summary>The status and error bytes of the last D2H register FIS.</summary>
    public (byte Status, byte Error) D2h()
    {
        Span<byte> fis = stackalloc byte[4];
        Memory.TryRead(FisArea + RxD2hRegister, fis);
        fis[0].Should().Be(FisRegisterD2H);
        return (fis[2], fis[3]);
    }

    public byte[] Bytes(ulong address, int length)
    {
        byte[] data = new byte[length];
        Memory.TryRead(address, data).Should().BeTrue();
        return data;
    }

    /// <summary>PRDBC: the bytes the last command in slot 0 moved.</summary>
    public int TransferredBytes => BinaryPrimitives.ReadInt32LittleEndian(Bytes(CommandList + 4, 4));

    /// <summary>REQUEST SENSE's key, ASC and ASCQ.</summary>
    public (byte Key, byte Asc, byte Ascq) Sense()
    {
        Packet([AtapiCdrom.RequestSense, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0]).Should().Be(IsDhrs);
        byte[] sense = Bytes(DataBuffer, 18);
        return (sense[2], sense[12], sense[13]);
    }
}

/// <summary>Small ISO 9660-shaped images: a primary volume descriptor at sector 16 and numbered sectors after it.</summary>
internal static class FakeIso
{
    public static string Create(string directory, string label = "TEST_DISC", int sectors = 32)
    {
        string path = Path.Combine(directory, $"{label}.iso");
        byte[] image = new byte[sectors * IsoImage.SectorSize];
        for (int s = 0; s < sectors; s++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(image.AsSpan(s * IsoImage.SectorSize), 0x5EC0_0000 + s);
        }

        var pvd = image.AsSpan(16 * IsoImage.SectorSize, IsoImage.SectorSize);
        pvd.Clear();
        pvd[0] = 1;
        "CD001"u8.CopyTo(pvd[1..]);
        pvd[6] = 1;
        System.Text.Encoding.ASCII.GetBytes(label.PadRight(32)).CopyTo(pvd[40..]);
        File.WriteAllBytes(path, image);
        return path;
    }
}
