using System.Buffers.Binary;
using static Platform.Devices.Storage.Ahci.AhciRegisters;

namespace Platform.Devices.Storage.Ahci;

/// <summary>
/// Command processing: each slot set in PxCI is read from the command list, its FIS and ATAPI command from its command
/// table, a write's data gathered from the PRDT, run on the device, a read's data scattered through the PRDT, and ended
/// with the FISes SeaBIOS and Linux read (a Set Device Bits FIS for NCQ: <c>AhciPort.Queued.cs</c>).
/// </summary>
/// <remarks>
/// A command runs to its end on the thread that wrote PxCI, as QEMU's AHCI starts it there: reading an ISO is a page
/// cache copy, a SATA disk's I/O a positioned read or write, and SeaBIOS polls for the result anyway. Anything the guest
/// got wrong (a list, table or buffer outside RAM, an unknown FIS, a PRDT that does not hold an ATA command's data) ends
/// that command with ERR and the matching PxIS error bit; the VMM goes on.
/// </remarks>
public sealed partial class AhciPort
{
    private const int MinCommandFisDwords = 5;
    private const int CommandFisBytes = 20;
    private const int AtapiCommandBytes = 16;

    private void RunIssuedCommands()
    {
        // Slots in order; a command's end never issues another, so one pass drains PxCI.
        for (int slot = 0; slot < CommandSlots && _commandsIssued != 0 && (_command & CmdSt) != 0; slot++)
        {
            uint bit = 1u << slot;
            if ((_commandsIssued & bit) != 0)
            {
                RunSlot(slot);
                _commandsIssued &= ~bit;
            }
        }

        _interruptChanged();
    }

    private void RunSlot(int slot)
    {
        Span<byte> header = stackalloc byte[CommandHeaderSize];
        ulong headerAddress = _commandList + ((ulong)slot * CommandHeaderSize);
        if (!_memory.BusMasterEnabled || !_memory.TryRead(headerAddress, header))
        {
            Fail(IsHbfs, slot, queued: false);
            return;
        }

        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header);
        ulong table = (BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) & 0xFFFF_FF80u) |
            ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(header[12..]) << 32);
        Span<byte> fis = stackalloc byte[CommandFisBytes];
        if ((flags & HeaderCflMask) < MinCommandFisDwords || !_memory.TryRead(table + TableCommandFis, fis))
        {
            Fail((flags & HeaderCflMask) < MinCommandFisDwords ? IsIfs : IsHbfs, slot, queued: false);
            return;
        }

        if (fis[0] != FisRegisterH2D)
        {
            Fail(IsIfs, slot, queued: false);
            return;
        }

        if ((fis[1] & FisCommandBit) == 0)
        {
            DeviceControl(fis[15]);
            return;
        }

        if (Device is null)
        {
            Fail(IsIfs, slot, queued: false);
            return;
        }

        var command = AtaCommand.FromFis(fis);
        bool queued = IsQueued(command);
        Span<byte> packet = stackalloc byte[AtapiCommandBytes];
        bool isPacket = command.Command == AtapiCdrom.PacketCommand;
        if (isPacket && !_memory.TryRead(table + TableAtapiCommand, packet))
        {
            Fail(IsHbfs, slot, queued);
            return;
        }

        ulong prdt = table + TablePrdt;
        int prdEntries = (int)(flags >> HeaderPrdtlShift);
        int transferred = 0;
        int dataOut = Device.DataOutLength(command);
        if (dataOut > 0)
        {
            uint error = _buffer.TryReserve(dataOut, out var outgoing) ? Gather(prdt, prdEntries, outgoing) : IsOfs;
            if (error != 0)
            {
                Fail(error, slot, queued);
                return;
            }

            transferred = dataOut;
        }

        var result = Device.Execute(command, packet, _buffer);
        if (result.DataLength > 0)
        {
            uint error = Scatter(prdt, prdEntries, _buffer.Data(result.DataLength), out transferred);
            // ATAPI's allocation lengths may exceed the buffer (SCSI truncates); an ATA command's data must fit.
            if (error == 0 && !isPacket && transferred < result.DataLength)
            {
                error = IsOfs;
            }

            if (error != 0)
            {
                Fail(error, slot, queued);
                return;
            }
        }

        Span<byte> byteCount = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(byteCount, transferred);
        _memory.TryWrite(headerAddress + 4, byteCount); // PRDBC; the header was readable a moment ago
        BytesTransferred += transferred;
        CommandsCompleted++;
        if (queued)
        {
            EndQueued(result, slot);
        }
        else
        {
            End(result);
            _commandsActive &= ~(1u << slot);
        }
    }

    /// <summary>
    /// Copies <paramref name="data"/> into the PRDT's buffers in order. A PRDT shorter than the data truncates it (an
    /// allocation length larger than the buffer, as SCSI allows); an entry outside RAM is a host bus data error.
    /// </summary>
    private uint Scatter(ulong prdt, int entries, ReadOnlySpan<byte> data, out int transferred)
    {
        transferred = 0;
        Span<byte> entry = stackalloc byte[PrdEntrySize];
        for (int i = 0; i < entries && transferred < data.Length; i++)
        {
            if (!_memory.TryRead(prdt + ((ulong)i * PrdEntrySize), entry))
            {
                return IsHbfs;
            }

            (ulong address, int length) = PrdEntry(entry);
            int chunk = Math.Min(length, data.Length - transferred);
            if (!_memory.TryWrite(address, data.Slice(transferred, chunk)))
            {
                return IsHbds;
            }

            transferred += chunk;
        }

        return 0;
    }

    /// <summary>
    /// Fills <paramref name="data"/> from the PRDT's buffers in order, for a command that sends data to the device. A
    /// PRDT that holds less than the command sends (none at all included) is an overflow; an entry outside RAM is a host
    /// bus data error. Either way the device never runs the command.
    /// </summary>
    private uint Gather(ulong prdt, int entries, Span<byte> data)
    {
        int gathered = 0;
        Span<byte> entry = stackalloc byte[PrdEntrySize];
        for (int i = 0; i < entries && gathered < data.Length; i++)
        {
            if (!_memory.TryRead(prdt + ((ulong)i * PrdEntrySize), entry))
            {
                return IsHbfs;
            }

            (ulong address, int length) = PrdEntry(entry);
            int chunk = Math.Min(length, data.Length - gathered);
            if (!_memory.TryRead(address, data.Slice(gathered, chunk)))
            {
                return IsHbds;
            }

            gathered += chunk;
        }

        return gathered < data.Length ? IsOfs : 0;
    }

    /// <summary>A PRD's data base (bit 0 reserved) and byte count (DBC holds the count minus one, 4 MiB at most).</summary>
    private static (ulong Address, int Length) PrdEntry(ReadOnlySpan<byte> entry) =>
        (BinaryPrimitives.ReadUInt64LittleEndian(entry) & ~1UL, (int)(BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]) & PrdByteCountMask) + 1);

    /// <summary>A control FIS (C = 0): setting SRST resets the device; clearing it again brings its signature back.</summary>
    private void DeviceControl(byte control)
    {
        if ((control & ControlSrst) != 0)
        {
            Device?.Reset();
            return;
        }

        if (Device is { } device)
        {
            uint sig = device.Signature;
            _signature = sig;
            End(new AtaResult(AtaResult.StatusOk, 1, AtaProtocol.NonData, 0, (ushort)(sig & 0xFF), (sig >> 8) & 0xFF_FFFF));
        }
    }

    /// <summary>
    /// Ends a command the guest set up wrongly: ABRT, the error bit named, and TFES, through the FIS its kind ends with
    /// (a Set Device Bits FIS for a queued command).
    /// </summary>
    private void Fail(uint errorBit, int slot, bool queued)
    {
        BadCommands++;
        var result = AtaResult.Aborted();
        if (queued)
        {
            EndQueued(result, slot);
        }
        else
        {
            PostD2h(result);
            _taskFile = ((uint)result.Error << 8) | result.Status;
            _interruptStatus |= IsTfes;
            _commandsActive &= ~(1u << slot);
        }

        _interruptStatus |= errorBit;
    }

    /// <summary>Posts the FISes a command's end brings, sets PxTFD, and raises DHRS (and PSS, TFES) in PxIS.</summary>
    private void End(in AtaResult result)
    {
        if (result.Protocol is AtaProtocol.PioIn or AtaProtocol.PioOut && !result.Failed)
        {
            PostPioSetup(result);
            _interruptStatus |= IsPss;
        }

        PostD2h(result);
        _taskFile = ((uint)result.Error << 8) | result.Status;
        _interruptStatus |= IsDhrs | (result.Failed ? IsTfes : 0);
    }

    private bool PostD2h(in AtaResult result)
    {
        if ((_command & CmdFr) == 0)
        {
            return false;
        }

        Span<byte> fis = stackalloc byte[20];
        fis.Clear();
        fis[0] = FisRegisterD2H;
        fis[1] = FisInterruptBit;
        WriteRegisters(fis, result);
        return _memory.TryWrite(_fisArea + RxD2hRegister, fis);
    }

    /// <summary>The PIO setup FIS: Linux takes a PIO data-in command's ending status from its E_Status byte (15).</summary>
    private void PostPioSetup(in AtaResult result)
    {
        if ((_command & CmdFr) == 0)
        {
            return;
        }

        Span<byte> fis = stackalloc byte[20];
        fis.Clear();
        fis[0] = FisPioSetup;
        fis[1] = (byte)(FisInterruptBit | (result.Protocol == AtaProtocol.PioIn ? FisDeviceToHostBit : 0));
        WriteRegisters(fis, result);
        fis[15] = result.Status;
        BinaryPrimitives.WriteUInt16LittleEndian(fis[16..], (ushort)Math.Min(result.DataLength, ushort.MaxValue));
        _memory.TryWrite(_fisArea + RxPioSetup, fis);
    }

    private static void WriteRegisters(Span<byte> fis, in AtaResult result)
    {
        fis[2] = result.Status;
        fis[3] = result.Error;
        fis[4] = (byte)result.Lba;
        fis[5] = (byte)(result.Lba >> 8);
        fis[6] = (byte)(result.Lba >> 16);
        fis[8] = (byte)(result.Lba >> 24);
        fis[9] = (byte)(result.Lba >> 32);
        fis[10] = (byte)(result.Lba >> 40);
        fis[12] = (byte)result.Count;
        fis[13] = (byte)(result.Count >> 8);
    }
}
