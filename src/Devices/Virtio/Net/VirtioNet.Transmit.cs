using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio.Net;

// The transmit queue: the guest's frames to the backend, header checked against the negotiated offloads.
public sealed partial class VirtioNet
{
    /// <summary>Smallest frame worth sending: an Ethernet header (a shorter one is malformed, not a frame).</summary>
    private const int EthernetHeaderSize = 14;

    /// <summary>One frame copied out of a transmit chain (header and payload), reused for every frame.</summary>
    private readonly byte[] _transmitFrame;

    private void Transmit(VirtQueue queue)
    {
        bool added = false;
        int skip = _backend.HasVirtioHeader ? 0 : HeaderSize;
        while (true)
        {
            if (!_backend.CanSend)
            {
                Interlocked.Increment(ref _counters.TxStalls); // the rest waits for the send-ready notifier
                break;
            }

            if (!queue.TryPop(out var chain))
            {
                break;
            }

            ulong length = chain.ReadableLength;
            if (length < HeaderSize + EthernetHeaderSize || length > (ulong)_transmitFrame.Length)
            {
                Interlocked.Increment(ref _counters.Dropped);
            }
            else
            {
                var frame = _transmitFrame.AsSpan(0, (int)length);
                chain.Read(0, frame);
                _addresses.Observe(frame[HeaderSize..]);
                Send(frame, skip);
            }

            queue.AddUsed(chain.Head, 0);
            added = true;
        }

        if (added)
        {
            SignalUsed(queue);
        }
    }

    /// <summary>Hands one frame (header first) to the backend, unless its header asks for what was not negotiated.</summary>
    private void Send(Span<byte> frame, int skip)
    {
        if (!VirtioNetHeader.AcceptFromGuest(frame[..HeaderSize], _features))
        {
            Interlocked.Increment(ref _counters.BadOffloads);
            Interlocked.Increment(ref _counters.Dropped);
            return;
        }

        if (_linkUp && _backend.Send(frame[skip..]))
        {
            Interlocked.Increment(ref _counters.TxFrames);
            Interlocked.Add(ref _counters.TxBytes, frame.Length - HeaderSize);
        }
        else
        {
            Interlocked.Increment(ref _counters.Dropped);
        }
    }
}
