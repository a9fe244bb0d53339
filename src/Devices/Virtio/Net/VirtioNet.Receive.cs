using System.Buffers.Binary;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio.Net;

// The receive queue: frames from the backend, filtered, into one receive chain each, or into as many as they need
// with VIRTIO_NET_F_MRG_RXBUF (virtio 1.2 5.1.6.3 and 5.1.6.4).
public sealed partial class VirtioNet
{
    /// <summary>Chains given to one frame, then chains refused as too short, returned together after it (worker only).</summary>
    private readonly UsedElement[] _frameChains = new UsedElement[QueueSize];
    private readonly UsedElement[] _refusedChains = new UsedElement[QueueSize];
    /// <summary>Where the first chain of a merged frame keeps its header, written once the number of buffers is known.</summary>
    private readonly GuestBuffer[] _headerPlace = new GuestBuffer[HeaderSize];
    private int _headerPieces;

    private enum Delivery
    {
        /// <summary>The frame is in the guest's buffers.</summary>
        Delivered,
        /// <summary>The frame was lost (counted); the backend moves on to the next.</summary>
        Dropped,
        /// <summary>Not enough receive buffers yet: the frame stays in the backend until the guest posts more.</summary>
        Wait,
    }

    private void ReceiveInto(VirtQueue queue)
    {
        bool added = false;
        bool withHeader = _backend.HasVirtioHeader;
        Span<byte> header = stackalloc byte[HeaderSize];
        while (true)
        {
            var frame = _backend.PeekFrame();
            if (frame.IsEmpty)
            {
                break;
            }

            var payload = withHeader ? frame[Math.Min(HeaderSize, frame.Length)..] : frame;
            if (payload.Length < EthernetHeaderSize || (withHeader && frame.Length < HeaderSize))
            {
                Interlocked.Increment(ref _counters.Dropped); // a runt nobody could take; the guest's driver would drop it too
                _backend.ConsumeFrame();
                continue;
            }

            if (!_linkUp)
            {
                // The cable is out (set_link): what arrives is lost, as on a real wire; QEMU drops it the same way.
                Interlocked.Increment(ref _counters.Dropped);
                _backend.ConsumeFrame();
                continue;
            }

            if (!_filter.Accepts(payload, _mac))
            {
                Interlocked.Increment(ref _counters.Filtered);
                _backend.ConsumeFrame();
                continue;
            }

            // A backend without headers gets the "no offload information" header: no checksum needed, no GSO.
            header.Clear();
            if (withHeader)
            {
                frame[..HeaderSize].CopyTo(header);
            }

            if (!VirtioNetHeader.AcceptForGuest(header, _features))
            {
                Interlocked.Increment(ref _counters.BadOffloads);
                Interlocked.Increment(ref _counters.Dropped);
                _backend.ConsumeFrame();
                continue;
            }

            var delivery = Has(FeatureMrgRxbuf) ? DeliverMerged(queue, header, payload) : DeliverWhole(queue, header, payload);
            if (delivery == Delivery.Wait)
            {
                break; // the frame waits in the backend for the guest's next receive buffers
            }

            if (delivery == Delivery.Dropped)
            {
                Interlocked.Increment(ref _counters.Dropped);
            }
            else
            {
                Interlocked.Increment(ref _counters.RxFrames);
                Interlocked.Add(ref _counters.RxBytes, payload.Length);
            }

            _backend.ConsumeFrame();
            added = true;
        }

        if (added)
        {
            SignalUsed(queue);
        }
    }

    /// <summary>
    /// Without MRG_RXBUF a frame goes into exactly one chain, with num_buffers 1. A frame larger than the chain (or a
    /// chain without room for the header) costs the frame, and the chain goes back empty.
    /// </summary>
    private Delivery DeliverWhole(VirtQueue queue, Span<byte> header, ReadOnlySpan<byte> payload)
    {
        if (!queue.TryPop(out var chain))
        {
            return Delivery.Wait;
        }

        if (chain.WritableLength < (ulong)(HeaderSize + payload.Length))
        {
            if (chain.WritableLength < HeaderSize)
            {
                Interlocked.Increment(ref _counters.BadRxChains);
            }

            queue.AddUsed(chain.Head, 0);
            return Delivery.Dropped;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(header[VirtioNetHeader.NumBuffersOffset..], 1);
        uint written = (uint)chain.Write(0, header);
        written += (uint)chain.Write(HeaderSize, payload);
        queue.AddUsed(chain.Head, written);
        return Delivery.Delivered;
    }

    /// <summary>
    /// With MRG_RXBUF a frame fills as many chains as it needs, the header in the first with num_buffers saying how
    /// many, and the driver sees them all at once (one used-index update). Chains too short for a header, which the
    /// driver must not post, are returned empty after the frame's, counted. When the guest has not posted enough,
    /// the chains go back to the ring (<see cref="VirtQueue.PutBack"/>) and the frame waits; only when every slot of
    /// the ring holds a chain for it and it still does not fit is it dropped, as no more buffers can ever come.
    /// </summary>
    private Delivery DeliverMerged(VirtQueue queue, Span<byte> header, ReadOnlySpan<byte> payload)
    {
        int taken = 0, parts = 0, refused = 0, sent = 0;
        while (parts == 0 || sent < payload.Length)
        {
            if (!queue.TryPop(out var chain))
            {
                if (queue.Fault != VirtQueueFault.None)
                {
                    return Delivery.Wait; // the worker reports the fault; nothing more happens on this queue
                }

                if (taken < queue.Size)
                {
                    queue.PutBack(taken);
                    return Delivery.Wait;
                }

                Interlocked.Add(ref _counters.BadRxChains, refused);
                for (int i = 0; i < parts; i++)
                {
                    _refusedChains[refused++] = new UsedElement(_frameChains[i].Head, 0);
                }

                queue.AddUsed(_refusedChains.AsSpan(0, refused));
                return Delivery.Dropped;
            }

            taken++;
            if (chain.WritableLength < HeaderSize)
            {
                _refusedChains[refused++] = new UsedElement(chain.Head, 0);
                continue;
            }

            int written = 0;
            if (parts == 0)
            {
                RememberHeaderPlace(chain.Writable);
                written = HeaderSize;
            }

            int chunk = (int)Math.Min((ulong)(payload.Length - sent), chain.WritableLength - (ulong)written);
            written += chain.Write((ulong)written, payload.Slice(sent, chunk));
            sent += chunk;
            _frameChains[parts++] = new UsedElement(chain.Head, (uint)written);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(header[VirtioNetHeader.NumBuffersOffset..], (ushort)parts);
        WriteHeader(header);
        for (int i = 0; i < refused; i++)
        {
            _frameChains[parts + i] = _refusedChains[i];
        }

        queue.AddUsed(_frameChains.AsSpan(0, parts + refused));
        Interlocked.Add(ref _counters.BadRxChains, refused);
        if (parts > 1)
        {
            Interlocked.Increment(ref _counters.RxMerged);
        }

        return Delivery.Delivered;
    }

    /// <summary>Keeps the guest addresses of the first <see cref="HeaderSize"/> writable bytes (a chain is only valid until the next pop).</summary>
    private void RememberHeaderPlace(ReadOnlySpan<GuestBuffer> writable)
    {
        _headerPieces = 0;
        uint left = HeaderSize;
        foreach (var buffer in writable)
        {
            uint length = Math.Min(left, buffer.Length);
            _headerPlace[_headerPieces++] = buffer with { Length = length };
            left -= length;
            if (left == 0)
            {
                break;
            }
        }
    }

    private void WriteHeader(ReadOnlySpan<byte> header)
    {
        var memory = Activation!.Memory;
        int done = 0;
        foreach (var piece in _headerPlace.AsSpan(0, _headerPieces))
        {
            memory.TryWrite(piece.Address, header.Slice(done, (int)piece.Length)); // inside RAM: the queue checked it
            done += (int)piece.Length;
        }
    }
}
