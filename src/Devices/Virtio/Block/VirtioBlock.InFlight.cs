using System.Collections.Concurrent;
using Platform.Devices.Abstractions;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio.Block;

// Requests served in place and in flight: preparing a BlockRequest from a chain, running it on the worker or an I/O
// thread, and publishing completions. Only the worker touches the used ring, the free list and _dispatched.
public sealed partial class VirtioBlock
{
    /// <summary>iovecs one preadv/pwritev takes (Linux's UIO_MAXIOV); a chain with more pieces is copied instead.</summary>
    private const int MaxSegmentsInPlace = 1024;

    private readonly BlockRequest[] _requests;
    private readonly Stack<BlockRequest> _free;
    private readonly BlockIoThreads _ioThreads;
    private readonly ConcurrentQueue<BlockRequest> _completed = new();
    private readonly object _drainGate = new(); // Monitor.Wait/Pulse need an object lock
    private int _dispatched;   // handed to I/O threads and not yet published (worker only)
    private int _executing;    // running on I/O threads now (interlocked): what reset waits for
    private int _maxInFlightSeen;

    /// <summary>
    /// A READ, WRITE or FLUSH as a request slot whose data are views of the guest's buffers, or null when it must be
    /// served on the worker instead: a bad range or a read-only disk (answered at once), no data, a buffer not aligned
    /// as the backend needs, or guest memory that will not view a piece.
    /// </summary>
    private BlockRequest? TryPrepare(DescriptorChain chain, IGuestMemory memory, uint type, ulong sector)
    {
        var statusBuffer = chain.Writable[^1];
        ulong statusAddress = statusBuffer.Address + statusBuffer.Length - 1;
        var request = _free.Peek();
        if (type == RequestFlush)
        {
            request.Begin(chain.Head, type, 0, 0, statusAddress);
            return _free.Pop();
        }

        bool toGuest = type == RequestIn;
        ulong length = toGuest ? chain.WritableLength - 1 : chain.ReadableLength - HeaderSize;
        ulong alignment = (ulong)_backend.RequiredAlignment;
        if (length == 0 || (!toGuest && _backend.IsReadOnly) || !TryRange(sector, length, out long offset) ||
            (ulong)offset % alignment != 0 || alignment > PageSize)
        {
            return null;
        }

        request.Begin(chain.Head, type, offset, (uint)length, statusAddress);
        ulong skip = toGuest ? 0 : (ulong)HeaderSize; // a write's data follow the header, maybe in the header's descriptor
        ulong remaining = length;
        foreach (var buffer in toGuest ? chain.Writable : chain.Readable)
        {
            if (remaining == 0)
            {
                break;
            }

            if (skip >= buffer.Length)
            {
                skip -= buffer.Length;
                continue;
            }

            ulong address = buffer.Address + skip;
            ulong piece = Math.Min(buffer.Length - skip, remaining);
            skip = 0;
            remaining -= piece;
            // Guest memory views keep the guest address's offset within a page, so this is the host alignment too.
            if (address % alignment != 0 || piece % alignment != 0)
            {
                request.Release();
                return null;
            }

            while (piece > 0)
            {
                int part = (int)Math.Min(piece, IGuestMemory.MinViewLength);
                if (request.SegmentCount == MaxSegmentsInPlace || !request.TryAddSegment(memory, address, part))
                {
                    request.Release();
                    return null;
                }

                address += (ulong)part;
                piece -= (ulong)part;
            }
        }

        return _free.Pop();
    }

    /// <summary>Hands a prepared request to an I/O thread.</summary>
    private void Dispatch(BlockRequest request)
    {
        _dispatched++;
        NoteInFlight(_dispatched);
        Interlocked.Increment(ref _executing);
        _ioThreads.Run(request);
    }

    /// <summary>Runs a request on the worker: it is the only one, so a thread hop would only add latency.</summary>
    private bool RunOnWorker(VirtQueue queue, IGuestMemory memory, BlockRequest request)
    {
        NoteInFlight(1);
        request.Execute(_backend, Throttle);
        return Publish(queue, memory, request);
    }

    private void NoteInFlight(int count)
    {
        if (count > _maxInFlightSeen)
        {
            Volatile.Write(ref _maxInFlightSeen, count);
        }
    }

    /// <summary>On an I/O thread: the I/O, then the request goes back to the worker, which publishes it.</summary>
    private void ExecuteOnIoThread(BlockRequest request)
    {
        request.Execute(_backend, Throttle);
        _completed.Enqueue(request);
        if (Interlocked.Decrement(ref _executing) == 0)
        {
            lock (_drainGate)
            {
                Monitor.PulseAll(_drainGate);
            }
        }

        Wake(0);
    }

    /// <summary>Publishes every request the I/O threads finished; true if any reached the used ring.</summary>
    private bool PublishCompleted(VirtQueue queue, IGuestMemory memory)
    {
        bool added = false;
        while (_completed.TryDequeue(out var request))
        {
            _dispatched--;
            added |= Publish(queue, memory, request);
        }

        return added;
    }

    /// <summary>Status byte, then the used element (the queue orders the element before the index).</summary>
    private bool Publish(VirtQueue queue, IGuestMemory memory, BlockRequest request)
    {
        byte status = request.Status;
        if (request.Type == RequestFlush)
        {
            Interlocked.Increment(ref _stats.Flushes);
        }

        if (status != StatusOk)
        {
            Interlocked.Increment(ref _stats.Failed);
        }
        else if (request.Type != RequestFlush)
        {
            Interlocked.Increment(ref _stats.InPlace);
            bool read = request.Type == RequestIn;
            Interlocked.Increment(ref read ? ref _stats.Reads : ref _stats.Writes);
            Interlocked.Add(ref read ? ref _stats.BytesRead : ref _stats.BytesWritten, request.Length);
        }

        ushort head = request.Head;
        uint used = request.WrittenToGuest + 1;
        bool publish = !HasFailed && memory.TryWrite(request.StatusAddress, [status]);
        Recycle(request);
        if (!publish)
        {
            return false; // after NEEDS_RESET nothing more reaches the used ring, as in QEMU
        }

        queue.AddUsed(head, used);
        return true;
    }

    private void Recycle(BlockRequest request)
    {
        request.Release();
        _free.Push(request);
    }

    /// <summary>
    /// With the worker stopped (reset, activation): waits until no I/O thread is running a request, so nothing
    /// touches guest memory afterwards, then forgets every request; their used entries are never published.
    /// </summary>
    private void ForgetRequests()
    {
        lock (_drainGate)
        {
            while (Volatile.Read(ref _executing) != 0)
            {
                Monitor.Wait(_drainGate);
            }
        }

        _completed.Clear();
        _free.Clear();
        foreach (var request in _requests)
        {
            request.Release();
            _free.Push(request);
        }

        _dispatched = 0;
    }
}
