using System.Buffers.Binary;

namespace Platform.Devices.Storage.Ahci;

/// <summary>Reads, writes, verifies, flushes and TRIMs: the commands that move sectors or touch the backend.</summary>
public sealed partial class AtaDisk
{
    /// <summary>ERR's UNC bit: the data could not be read (ATA8-ACS 6.2).</summary>
    private const byte ErrorUncorrectable = 0x40;

    private const int TrimEntrySize = 8;

    /// <summary>A sector transfer decoded from its command's registers, whichever of the twelve forms it came in.</summary>
    private readonly record struct Transfer(ulong Lba, int Sectors, bool Write, AtaProtocol Protocol, bool ForceUnitAccess = false, bool Verify = false)
    {
        public long Offset => (long)Lba * SectorSize;

        public int Bytes => Sectors * SectorSize;
    }

    /// <summary>Whether <paramref name="command"/> is a read, write or verify of sectors, and which.</summary>
    private static bool TryDecodeTransfer(in AtaCommand command, out Transfer transfer)
    {
        transfer = command.Command switch
        {
            ReadSectors or ReadMultiple => new(command.Lba28, command.Count28, false, AtaProtocol.PioIn),
            ReadSectorsExt or ReadMultipleExt => new(command.Lba, command.Count48, false, AtaProtocol.PioIn),
            ReadDma => new(command.Lba28, command.Count28, false, AtaProtocol.DmaIn),
            ReadDmaExt => new(command.Lba, command.Count48, false, AtaProtocol.DmaIn),
            WriteSectors or WriteMultiple => new(command.Lba28, command.Count28, true, AtaProtocol.PioOut),
            WriteSectorsExt or WriteMultipleExt => new(command.Lba, command.Count48, true, AtaProtocol.PioOut),
            WriteDma => new(command.Lba28, command.Count28, true, AtaProtocol.DmaOut),
            WriteDmaExt => new(command.Lba, command.Count48, true, AtaProtocol.DmaOut),
            WriteDmaFuaExt => new(command.Lba, command.Count48, true, AtaProtocol.DmaOut, ForceUnitAccess: true),
            // NCQ keeps the count in the features registers and the tag in the count; FUA is the device register's bit 7.
            ReadFpdmaQueued => new(command.Lba, command.Features == 0 ? 65536 : command.Features, false, AtaProtocol.DmaIn),
            WriteFpdmaQueued => new(command.Lba, command.Features == 0 ? 65536 : command.Features, true, AtaProtocol.DmaOut,
                ForceUnitAccess: (command.Device & 0x80) != 0),
            ReadVerifySectors => new(command.Lba28, command.Count28, false, AtaProtocol.NonData, Verify: true),
            ReadVerifySectorsExt => new(command.Lba, command.Count48, false, AtaProtocol.NonData, Verify: true),
            _ => default,
        };
        return transfer.Sectors > 0;
    }

    private bool InRange(in Transfer transfer) => transfer.Lba <= SectorCount && (ulong)transfer.Sectors <= SectorCount - transfer.Lba;

    private AtaResult ReadData(in Transfer transfer, AtaTransferBuffer buffer)
    {
        if (!InRange(transfer))
        {
            return OutOfRange(transfer);
        }

        ReadCommands++;
        if (!buffer.TryReserve(transfer.Bytes, out var data))
        {
            return Abort();
        }

        if (!_backend.Read(transfer.Offset, data))
        {
            FailedIo++;
            return new AtaResult(AtaResult.StatusReady | AtaResult.StatusError, ErrorUncorrectable, AtaProtocol.NonData, 0, 0, transfer.Lba);
        }

        BytesRead += transfer.Bytes;
        return AtaResult.Ok(transfer.Protocol, transfer.Bytes);
    }

    private AtaResult WriteData(in Transfer transfer, AtaTransferBuffer buffer)
    {
        if (!InRange(transfer))
        {
            return OutOfRange(transfer);
        }

        if (IsReadOnly)
        {
            return Abort(); // ATA8-ACS: a write-protected medium aborts the command
        }

        WriteCommands++;
        if (!_backend.Write(transfer.Offset, buffer.Data(transfer.Bytes)) ||
            ((transfer.ForceUnitAccess || !_writeCache) && !_backend.Flush()))
        {
            FailedIo++;
            return new AtaResult(AtaResult.StatusReady | AtaResult.StatusError, AtaResult.ErrorAbort, AtaProtocol.NonData, 0, 0, transfer.Lba);
        }

        BytesWritten += transfer.Bytes;
        return AtaResult.Ok(transfer.Protocol);
    }

    /// <summary>READ VERIFY: the sectors are checked, nothing moves; for an image that is a range check.</summary>
    private AtaResult Verify(in Transfer transfer) => InRange(transfer) ? AtaResult.Ok() : OutOfRange(transfer);

    private AtaResult Flush()
    {
        FlushCommands++;
        if (_backend.Flush())
        {
            return AtaResult.Ok();
        }

        FailedIo++;
        return AtaResult.Aborted();
    }

    /// <summary>
    /// DATA SET MANAGEMENT with TRIM: each 8-byte entry is a 48-bit LBA and a 16-bit sector count (0: unused). Every range
    /// is checked before any is released, so a bad list changes nothing.
    /// </summary>
    private AtaResult Trim(in AtaCommand command, AtaTransferBuffer buffer)
    {
        int length = DataOutLength(command);
        if (length == 0)
        {
            return Abort();
        }

        TrimCommands++;
        var entries = buffer.Data(length);
        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = 0; i + TrimEntrySize <= entries.Length; i += TrimEntrySize)
            {
                ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(entries[i..]);
                int sectors = (int)(entry >> 48);
                var range = new Transfer(entry & 0xFFFF_FFFF_FFFF, sectors, true, AtaProtocol.DmaOut);
                if (sectors == 0)
                {
                    continue;
                }

                if (pass == 0 && !InRange(range))
                {
                    return OutOfRange(range);
                }

                if (pass == 1 && !_backend.Discard(range.Offset, range.Bytes))
                {
                    FailedIo++;
                    return AtaResult.Aborted();
                }
            }
        }

        return AtaResult.Ok(AtaProtocol.DmaOut);
    }

    /// <summary>
    /// A range past the end: ABRT, as QEMU's disks answer it (so a guest sees the same PxTFD under both), with the
    /// command's LBA in the registers.
    /// </summary>
    private AtaResult OutOfRange(in Transfer transfer)
    {
        AbortedCommands++;
        return AtaResult.Aborted(lba: transfer.Lba);
    }
}
