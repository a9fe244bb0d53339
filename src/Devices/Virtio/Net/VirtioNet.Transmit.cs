using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio.Net;

// The transmit queue: the guest's frames to the backend, header checked against the negotiated offloads.
public sealed partial class VirtioNet
{
    /// <summary>Smallest frame worth sending: an Ethernet header (a shorter one is malformed, not a frame).</summary>
    private const int EthernetHeaderSize = 14;

    /// <summary>
    /// How long the worker keeps looking at an emptied transmit queue before it sleeps until the next notification
    /// (vhost-net's busy polling, kept short): a guest sending a stream refills its queue soon after it sees frames go.
    /// </summary>
    private static readonly long TransmitPollTicks = System.Diagnostics.Stopwatch.Frequency * 30 / 1_000_000;

    /// <summary>Frames sent before the worker looks at its other queues (QEMU's tx_burst).</summary>
    private const int TransmitBurst = 256;

    /// <summary>One frame copied out of a transmit chain (header and payload), reused for every frame.</summary>
    private readonly byte[] _transmitFrame;

    private void Transmit(VirtQueue queue)
    {
        bool added = false, polled = false;
        int sent = 0;
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
                if (added)
                {
                    SignalUsed(queue); // the driver hears of what went before the worker waits for more
                    added = false;
                }

                if (polled)
                {
                    break; // nothing came while polling; the empty TryPop asked for a notification again
                }

                // Look a moment longer, with the driver told not to notify meanwhile: under a stream of frames the
                // next ones come soon, and a notification costs the guest an exit and the VMM two thread wake-ups.
                polled = true;
                queue.SuppressNotifications();
                PollBriefly(queue);
                continue;
            }

            polled = false;

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
            if (++sent == TransmitBurst)
            {
                Wake(TransmitQueue); // a guest that never stops sending must not keep received frames waiting
                break;
            }
        }

        if (added)
        {
            SignalUsed(queue);
        }
    }

    /// <summary>Watches the queue for up to <see cref="TransmitPollTicks"/>, until the driver makes more chains available.</summary>
    private static void PollBriefly(VirtQueue queue)
    {
        long until = System.Diagnostics.Stopwatch.GetTimestamp() + TransmitPollTicks;
        while (!queue.HasAvailable && System.Diagnostics.Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(20);
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
