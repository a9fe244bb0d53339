using System.Buffers.Binary;

namespace Platform.Devices.Firmware;

// The DMA interface: the guest writes the address of a 16-byte request (big-endian control, length and address) and
// the transfer is done before its port write returns, as QEMU's is; the control word written back tells it so.
public sealed partial class FwCfgDevice
{
    private const uint DmaError = 1, DmaRead = 2, DmaSkip = 4, DmaSelect = 8, DmaWrite = 0x10;
    private const int RequestSize = 16;
    private const int FillChunk = 4096;

    /// <summary>Carries out the request at <paramref name="request"/>; the caller holds the lock.</summary>
    private void Transfer(ulong request)
    {
        Interlocked.Increment(ref _dmaTransfers);
        Span<byte> header = stackalloc byte[RequestSize];
        if (!_memory.TryRead(request, header))
        {
            Finish(request, DmaError); // lands only if the request's control word is in RAM
            return;
        }

        uint control = BinaryPrimitives.ReadUInt32BigEndian(header);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        ulong address = BinaryPrimitives.ReadUInt64BigEndian(header[8..]);
        if ((control & DmaSelect) != 0)
        {
            Select((ushort)(control >> 16));
        }

        uint result = (control & DmaRead) != 0 ? Read(address, length)
            : (control & DmaWrite) != 0 ? (length == 0 ? 0 : DmaError) // nothing here is writable
            : (control & DmaSkip) != 0 ? Skip(length)
            : 0;
        Finish(request, result);
    }

    /// <summary>Copies from the selected item into guest memory, zeros past its end; the error bit when the range is not RAM.</summary>
    private uint Read(ulong address, uint length)
    {
        if (!_memory.IsValidRange(address, length))
        {
            return DmaError;
        }

        int available = _selected is null ? 0 : Math.Max(0, _selected.Length - _offset);
        int copied = (int)Math.Min(length, (uint)available);
        if (copied > 0 && !_memory.TryWrite(address, _selected.AsSpan(_offset, copied)))
        {
            return DmaError;
        }

        _offset += copied;
        Span<byte> zeros = stackalloc byte[FillChunk];
        zeros.Clear();
        for (ulong at = (ulong)copied; at < length; at += FillChunk)
        {
            int chunk = (int)Math.Min(FillChunk, length - at);
            if (!_memory.TryWrite(address + at, zeros[..chunk]))
            {
                return DmaError;
            }
        }

        return 0;
    }

    private uint Skip(uint length)
    {
        int remaining = _selected is null ? 0 : Math.Max(0, _selected.Length - _offset);
        _offset += (int)Math.Min(length, (uint)remaining);
        return 0;
    }

    /// <summary>Writes the request's control word back: 0 when done, the error bit when not; the guest polls it.</summary>
    private void Finish(ulong request, uint control)
    {
        if (control != 0)
        {
            Interlocked.Increment(ref _dmaErrors);
        }

        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, control);
        _memory.TryWrite(request, word);
    }
}
