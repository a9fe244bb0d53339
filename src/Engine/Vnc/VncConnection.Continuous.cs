using System.Buffers.Binary;

namespace Platform.Engine.Vnc;

// Continuous updates and fences (rfbproto "ContinuousUpdates", "EnableContinuousUpdates", "EndOfContinuousUpdates" and
// "Fence"), as noVNC and TigerVNC use them: a client that lists -313 is told with an EndOfContinuousUpdates that the
// server has them, and may then ask for updates of an area to come as things change, with no request per frame. A
// client that lists -312 gets a fence request; it must answer each of ours, and we answer each of its requests with
// the same payload. With both, every continuous update is followed by a fence request, and no more than
// MaxUpdatesInFlight updates go out unanswered: the server sends at the pace the client takes them in, so a slow link
// holds at most that many frames in flight instead of a socket buffer's worth of stale ones.
internal sealed partial class VncConnection
{
    /// <summary>Fence replies waiting for the sender; a client sending more before they go out waits in its reader.</summary>
    private const int MaxPendingFenceReplies = 8;
    private const int MaxUpdatesInFlight = 2;
    /// <summary>The payload of the fence after a continuous update, so its answer is told from other fences' answers.</summary>
    private const byte UpdateFenceMarker = (byte)'u';

    private readonly SemaphoreSlim _fenceSlots = new(MaxPendingFenceReplies, MaxPendingFenceReplies);
    private readonly uint[] _fenceReplyFlags = new uint[MaxPendingFenceReplies];
    private readonly int[] _fenceReplyLengths = new int[MaxPendingFenceReplies];
    private readonly byte[] _fenceReplyPayloads = new byte[MaxPendingFenceReplies * RfbFence.MaxPayload];

    // Under _lock.
    private int _fenceReplyStart;
    private int _fenceReplyCount;
    private bool _continuous;
    private PixelRect _continuousArea;
    private bool _endOfContinuousPending;
    private bool _fenceRequestPending;
    private int _updatesInFlight;

    /// <summary>Under <see cref="_lock"/>, from SetEncodings: says once that we have what the client just listed.</summary>
    private void AnnounceFlowControl(ClientEncodings before, ClientEncodings now)
    {
        _endOfContinuousPending |= now.ContinuousUpdates && !before.ContinuousUpdates;
        _fenceRequestPending |= now.Fence && !before.Fence;
        if (!now.ContinuousUpdates)
        {
            _continuous = false;
        }

        if (!now.Fence)
        {
            _updatesInFlight = 0;
        }
    }

    private void EnableContinuousUpdates(ReadOnlySpan<byte> data)
    {
        bool enable = data[0] != 0;
        var area = new PixelRect(
            BinaryPrimitives.ReadUInt16BigEndian(data[1..]),
            BinaryPrimitives.ReadUInt16BigEndian(data[3..]),
            BinaryPrimitives.ReadUInt16BigEndian(data[5..]),
            BinaryPrimitives.ReadUInt16BigEndian(data[7..]));
        lock (_lock)
        {
            if (!_encodings.ContinuousUpdates)
            {
                throw new RfbProtocolException(
                    "EnableContinuousUpdates from a client that did not list the ContinuousUpdates pseudo-encoding (-313).");
            }

            _continuous = enable;
            _continuousArea = area;
            // Fences acknowledge continuous updates, requests the others: neither answers the other kind's updates.
            Link.ForgetInFlight();
            // Turning them off is confirmed with an EndOfContinuousUpdates; from then on updates wait for requests.
            _endOfContinuousPending |= !enable;
        }

        Wake();
    }

    private async Task FenceAsync(CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> header = await _reader.ReadAsync(8, cancellationToken).ConfigureAwait(false);
        uint flags = BinaryPrimitives.ReadUInt32BigEndian(header.Span[3..]);
        int length = header.Span[7];
        if (length > RfbFence.MaxPayload)
        {
            throw new RfbProtocolException($"Fence with a {length}-byte payload; at most {RfbFence.MaxPayload} are allowed.");
        }

        bool negotiated;
        lock (_lock)
        {
            negotiated = _encodings.Fence;
        }

        if (!negotiated)
        {
            throw new RfbProtocolException("Fence from a client that did not list the Fence pseudo-encoding (-312).");
        }

        ReadOnlyMemory<byte> payload = length > 0 ? await _reader.ReadAsync(length, cancellationToken).ConfigureAwait(false) : default;
        if ((flags & RfbFence.Request) == 0)
        {
            // The answer to one of ours; an update's means the client has taken in that update and all before it.
            if (length == 1 && payload.Span[0] == UpdateFenceMarker)
            {
                lock (_lock)
                {
                    _updatesInFlight = Math.Max(0, _updatesInFlight - 1);
                }

                Link.Acknowledged(System.Diagnostics.Stopwatch.GetTimestamp());
            }

            Wake();
            return;
        }

        // The payload stays valid until the next read, and nothing reads before it is copied.
        await _fenceSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            int slot = (_fenceReplyStart + _fenceReplyCount) % MaxPendingFenceReplies;
            // Every message before the fence is processed before the reply goes out (BlockBefore), and the reply goes
            // out before any update built after it (BlockAfter); SyncNext and unknown flags are cleared, as we do not
            // honour them.
            _fenceReplyFlags[slot] = flags & (RfbFence.BlockBefore | RfbFence.BlockAfter);
            _fenceReplyLengths[slot] = length;
            payload.Span.CopyTo(_fenceReplyPayloads.AsSpan(slot * RfbFence.MaxPayload));
            _fenceReplyCount++;
        }

        Wake();
    }

    /// <summary>
    /// Under <see cref="_lock"/>, first in each batch the sender builds: fence replies, then EndOfContinuousUpdates,
    /// then our first fence request.
    /// </summary>
    private void WriteFlowControlMessages()
    {
        int replies = _fenceReplyCount;
        for (; _fenceReplyCount > 0; _fenceReplyCount--)
        {
            int slot = _fenceReplyStart;
            WriteFence(_fenceReplyFlags[slot], _fenceReplyPayloads.AsSpan(slot * RfbFence.MaxPayload, _fenceReplyLengths[slot]));
            _fenceReplyStart = (slot + 1) % MaxPendingFenceReplies;
        }

        if (replies > 0)
        {
            _fenceSlots.Release(replies);
        }

        if (_endOfContinuousPending)
        {
            _endOfContinuousPending = false;
            _output.WriteByte(RfbMessage.EndOfContinuousUpdates);
        }

        if (_fenceRequestPending)
        {
            _fenceRequestPending = false;
            WriteFence(RfbFence.Request | RfbFence.BlockBefore, default);
        }
    }

    /// <summary>
    /// Under <see cref="_lock"/>: whether a continuous update may go now — enabled, and with fences, fewer than
    /// <see cref="MaxUpdatesInFlight"/> unanswered — and the area it covers.
    /// </summary>
    private bool ContinuousUpdateDue(ClientEncodings encodings, out PixelRect area)
    {
        area = _continuousArea;
        return _continuous && (!encodings.Fence || _updatesInFlight < MaxUpdatesInFlight);
    }

    /// <summary>The fence request that follows a continuous update.</summary>
    private void WriteUpdateFence() => WriteFence(RfbFence.Request | RfbFence.BlockBefore, [UpdateFenceMarker]);

    private void WriteFence(uint flags, ReadOnlySpan<byte> payload)
    {
        _output.WriteByte(RfbMessage.Fence);
        _output.WriteByte(0);
        _output.WriteUInt16(0);
        _output.WriteUInt32(flags);
        _output.WriteByte((byte)payload.Length);
        _output.Write(payload);
    }
}
