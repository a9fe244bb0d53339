using System.Buffers.Binary;
using static Platform.Devices.Storage.Ahci.AhciRegisters;

namespace Platform.Devices.Storage.Ahci;

/// <summary>
/// Native command queuing (AHCI 1.3.1, 5.3.8; SATA 3.0, 13.6): READ/WRITE FPDMA QUEUED end with a Set Device Bits
/// FIS, not a D2H register FIS. Its SActive field names the finished tag, which clears that bit of PxSACT; Linux's
/// <c>ahci</c> driver completes every queued command whose PxSACT bit is gone.
/// </summary>
/// <remarks>
/// Each queued command still runs to its end when PxCI is written, so a command never waits on another and the order
/// is the slots'; NCQ's value here is that a driver may issue 32 at once with no round trip between them. A queued
/// command that fails sends ERR/ABRT in the FIS, sets TFES and frees its tag too, so no tag stays busy after it.
/// </remarks>
public sealed partial class AhciPort
{
    private const int SetDeviceBitsFisBytes = 8;

    /// <summary>SATA's status field in the Set Device Bits FIS: bits 0-2 and 4-6 of the status register (no BSY or DRQ).</summary>
    private const byte SetDeviceBitsStatusMask = 0x77;

    private static bool IsQueued(in AtaCommand command) =>
        command.Command is AtaDisk.ReadFpdmaQueued or AtaDisk.WriteFpdmaQueued;

    private void EndQueued(in AtaResult result, int slot)
    {
        uint finished = 1u << slot; // AHCI: a queued command's tag is its slot
        _commandsActive &= ~finished;
        byte status = (byte)(result.Status & SetDeviceBitsStatusMask);
        _taskFile = ((uint)result.Error << 8) | status;
        if ((_command & CmdFr) != 0)
        {
            Span<byte> fis = stackalloc byte[SetDeviceBitsFisBytes];
            fis[0] = FisSetDeviceBits;
            fis[1] = FisInterruptBit;
            fis[2] = status;
            fis[3] = result.Error;
            BinaryPrimitives.WriteUInt32LittleEndian(fis[4..], result.Failed ? 0 : finished);
            _memory.TryWrite(_fisArea + RxSetDeviceBits, fis);
        }

        _interruptStatus |= IsSdbs | (result.Failed ? IsTfes : 0);
    }
}
