using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio.Block;

/// <summary>
/// virtio-blk (virtio 1.2 5.2) over an <see cref="IBlockBackend"/>: read, write, flush, get-id, discard and
/// write-zeroes on one request queue, with 512-byte sectors. Reads and writes go straight between the disk and the
/// guest's buffers, and several requests are in flight at once; a write reaches the backend before its used-ring
/// entry is published, so an acknowledged write survives the VMM being killed, and FLUSH (an fsync) makes it survive
/// the host.
/// </summary>
/// <remarks>
/// <para>Status codes follow QEMU: a request past the end of the disk or not a whole number of sectors, a write to a
/// read-only disk, and any backend failure answer VIRTIO_BLK_S_IOERR; unknown request types and discard/write-zeroes
/// that were not negotiated (or carry unknown flags) answer VIRTIO_BLK_S_UNSUPP. A chain without room for the
/// header or the status byte is not a request at all: the device goes to NEEDS_RESET, as QEMU's does.</para>
/// <para>How a request is served (VirtioBlock.InFlight.cs): READ, WRITE and FLUSH take one of
/// <see cref="MaxRequestsInFlight"/> <see cref="BlockRequest"/> slots, whose data are views of guest memory handed to
/// preadv/pwritev. The worker runs a request itself when it is the only one (no thread hop for a driver that waits
/// for each), and hands it to <see cref="BlockIoThreads"/> when others are in flight or waiting; completions come
/// back to the worker, which alone writes the used ring, in completion order (virtio lets a device complete out of
/// order), and signals the driver once per batch. A buffer that is not aligned as the backend needs (O_DIRECT), or
/// that guest memory will not view, is copied through one page-aligned bounce buffer on the worker instead, as are
/// GET_ID, DISCARD and WRITE_ZEROES. Reset waits for every request in flight, so no guest memory is touched after
/// the driver's reset returns.</para>
/// </remarks>
public sealed partial class VirtioBlock : VirtioDevice
{
    public const int SectorSize = 512;
    public const ushort DefaultQueueSize = 256;
    /// <summary>Bytes of the GET_ID answer (VIRTIO_BLK_ID_BYTES).</summary>
    public const int IdLength = 20;
    public const int MaxDiscardSegments = 16;
    /// <summary>Largest discard or write-zeroes segment, in sectors (1 GiB), so one request cannot stall the queue for long.</summary>
    public const uint MaxSectorsPerSegment = (1u << 30) / SectorSize;
    /// <summary>Requests served at once (QEMU's thread pool runs up to 64); more wait in the available ring.</summary>
    public const int MaxRequestsInFlight = 32;

    public const ulong FeatureSegMax = 1UL << 2;
    public const ulong FeatureReadOnly = 1UL << 5;
    public const ulong FeatureBlockSize = 1UL << 6;
    public const ulong FeatureFlush = 1UL << 9;
    public const ulong FeatureDiscard = 1UL << 13;
    public const ulong FeatureWriteZeroes = 1UL << 14;

    public const uint RequestIn = 0, RequestOut = 1, RequestFlush = 4, RequestGetId = 8, RequestDiscard = 11, RequestWriteZeroes = 13;
    public const byte StatusOk = 0, StatusIoError = 1, StatusUnsupported = 2;

    private const int HeaderSize = 16;
    private const int SegmentSize = 16;
    private const uint WriteZeroesUnmap = 1;
    private const int BounceSize = 256 * 1024;
    private const int PageSize = 4096;

    private readonly IBlockBackend _backend;
    private readonly byte[] _id = new byte[IdLength];
    private readonly byte[] _bounceStorage;
    private readonly int _bounceStart;
    private readonly ushort _queueSize;
    private ulong _features;
    private Stats _stats;

    public VirtioBlock(IBlockBackend backend, string? serial = null, ushort queueSize = DefaultQueueSize)
        : base(VirtioDeviceType.Block, [queueSize])
    {
        ArgumentNullException.ThrowIfNull(backend);
        _backend = backend;
        _queueSize = queueSize;
        if (serial is not null)
        {
            int length = System.Text.Encoding.ASCII.GetBytes(serial.AsSpan(0, Math.Min(serial.Length, IdLength)), _id);
            _id.AsSpan(length).Clear();
        }

        // Pinned so its address is stable, then sliced to a page boundary for O_DIRECT backends.
        _bounceStorage = GC.AllocateUninitializedArray<byte>(BounceSize + PageSize, pinned: true);
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(_bounceStorage, 0).ToInt64();
        _bounceStart = (int)((PageSize - (address % PageSize)) % PageSize);
        _requests = new BlockRequest[MaxRequestsInFlight];
        _free = new Stack<BlockRequest>(MaxRequestsInFlight);
        for (int i = 0; i < _requests.Length; i++)
        {
            _requests[i] = new BlockRequest();
            _free.Push(_requests[i]);
        }

        _ioThreads = new BlockIoThreads(MaxRequestsInFlight, "virtio-blk", ExecuteOnIoThread);
    }

    /// <summary>Disk size in 512-byte sectors (a partial last sector is not visible).</summary>
    public ulong CapacitySectors => (ulong)_backend.Length / SectorSize;

    /// <summary>The disk's size in bytes now.</summary>
    public long SizeBytes => _backend.Length;

    public bool IsReadOnly => _backend.IsReadOnly;

    /// <summary>
    /// Grows the disk while the guest runs, as QEMU's block_resize does: the image grows (durably), the capacity in the
    /// configuration space follows at once, and a driver that is running (DRIVER_OK) gets the configuration change
    /// interrupt with a new configuration generation, on which Linux re-reads the capacity. Requests already in flight
    /// are unaffected; the range check of later ones sees the new capacity. Throws as <see cref="IGrowableDisk.Grow"/>.
    /// </summary>
    public void Grow(long newSize)
    {
        if (_backend is not IGrowableDisk growable)
        {
            throw new DiskImageException("this disk's backend cannot grow");
        }

        growable.Grow(newSize);
        Activation?.Transport.SignalConfigChanged();
    }

    public override ulong DeviceFeatures
    {
        get
        {
            ulong features = FeatureSegMax | FeatureBlockSize | FeatureFlush;
            if (_backend.IsReadOnly)
            {
                return features | FeatureReadOnly;
            }

            features |= FeatureWriteZeroes;
            return _backend.SupportsDiscard ? features | FeatureDiscard : features;
        }
    }

    public override int ConfigSize => ConfigLength;

    public long ReadRequests => Interlocked.Read(ref _stats.Reads);

    public long WriteRequests => Interlocked.Read(ref _stats.Writes);

    public long FlushRequests => Interlocked.Read(ref _stats.Flushes);

    public long BytesRead => Interlocked.Read(ref _stats.BytesRead);

    public long BytesWritten => Interlocked.Read(ref _stats.BytesWritten);

    /// <summary>Requests answered with IOERR or UNSUPP.</summary>
    public long FailedRequests => Interlocked.Read(ref _stats.Failed);

    /// <summary>Reads and writes whose data went straight between the disk and guest memory.</summary>
    public long InPlaceRequests => Interlocked.Read(ref _stats.InPlace);

    /// <summary>Reads and writes copied through the bounce buffer (a buffer not aligned as the backend needs).</summary>
    public long BouncedRequests => Interlocked.Read(ref _stats.Bounced);

    /// <summary>The most requests that were in flight at once since the device was created.</summary>
    public int MaxInFlightSeen => Volatile.Read(ref _maxInFlightSeen);

    /// <summary>I/O threads started so far (they start only when requests overlap).</summary>
    public int IoThreads => _ioThreads.ThreadCount;

    private Span<byte> Bounce => _bounceStorage.AsSpan(_bounceStart, BounceSize);

    protected override void OnActivate(VirtioActivation activation)
    {
        ForgetRequests(); // a reset came first; this only makes sure
        _features = activation.Features;
    }

    protected override void OnReset() => ForgetRequests();

    /// <summary>Requests waiting for their throttled turn go now, so a reset never waits for the schedule.</summary>
    protected override void OnStopping() => Throttle?.Release();

    /// <summary>
    /// The disk's I/O limits (bytes and requests a second), or null for none; reads and writes wait their turn on the
    /// thread that carries them out (see <see cref="IoThrottle"/>). Its limits may be changed while the guest runs.
    /// </summary>
    public IoThrottle? Throttle { get; init; }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ioThreads.Dispose();
            _backend.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override void ProcessQueue(int queueIndex, VirtQueue queue)
    {
        var memory = Activation!.Memory;
        bool added = PublishCompleted(queue, memory);
        BlockRequest? held = null; // prepared, not started: it runs on the worker unless another request turns up
        Span<byte> header = stackalloc byte[HeaderSize];
        while (_free.Count > 0 && queue.TryPop(out var chain))
        {
            if (held is not null)
            {
                Dispatch(held);
                held = null;
            }

            if (chain.ReadableLength < HeaderSize || chain.WritableLength < 1)
            {
                Fail($"request {chain.Head}: {chain.ReadableLength} readable and {chain.WritableLength} writable bytes cannot hold a header and a status");
                break;
            }

            chain.Read(0, header);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(header);
            ulong sector = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
            if (type is RequestIn or RequestOut or RequestFlush && TryPrepare(chain, memory, type, sector) is { } request)
            {
                held = request;
                continue;
            }

            uint written = 0;
            byte status = type switch
            {
                RequestIn => ReadSectors(chain, sector, out written),
                RequestOut => WriteSectors(chain, sector),
                RequestFlush => Flush(), // not reached while TryPrepare gives every FLUSH a slot; kept so no type is unanswered
                RequestGetId => GetId(chain, out written),
                RequestDiscard => DiscardOrZero(chain, discard: true),
                RequestWriteZeroes => DiscardOrZero(chain, discard: false),
                _ => StatusUnsupported,
            };

            if (status != StatusOk)
            {
                Interlocked.Increment(ref _stats.Failed);
            }

            chain.Write(chain.WritableLength - 1, [status]);
            queue.AddUsed(chain.Head, written + 1);
            added = true;
        }

        if (held is not null)
        {
            if (HasFailed || queue.Fault != VirtQueueFault.None)
            {
                Recycle(held); // the device gave up on the driver: start nothing more
            }
            else if (_dispatched == 0)
            {
                added |= RunOnWorker(queue, memory, held);
            }
            else
            {
                Dispatch(held);
            }
        }

        added |= PublishCompleted(queue, memory);
        if (added)
        {
            SignalUsed(queue);
        }
    }

    /// <summary>IN: data goes to every writable byte but the last (the status).</summary>
    private byte ReadSectors(DescriptorChain chain, ulong sector, out uint written)
    {
        written = 0;
        ulong length = chain.WritableLength - 1;
        if (!TryRange(sector, length, out long offset))
        {
            return StatusIoError;
        }

        if (length > 0)
        {
            Interlocked.Increment(ref _stats.Bounced);
        }

        Throttle?.Wait((long)length);
        var bounce = Bounce;
        for (ulong done = 0; done < length;)
        {
            int chunk = (int)Math.Min(length - done, (ulong)bounce.Length);
            if (!_backend.Read(offset + (long)done, bounce[..chunk]))
            {
                return StatusIoError;
            }

            chain.Write(done, bounce[..chunk]);
            done += (ulong)chunk;
        }

        written = (uint)length;
        Interlocked.Increment(ref _stats.Reads);
        Interlocked.Add(ref _stats.BytesRead, (long)length);
        return StatusOk;
    }

    /// <summary>OUT: data is every readable byte after the header.</summary>
    private byte WriteSectors(DescriptorChain chain, ulong sector)
    {
        ulong length = chain.ReadableLength - HeaderSize;
        if (_backend.IsReadOnly || !TryRange(sector, length, out long offset))
        {
            return StatusIoError;
        }

        if (length > 0)
        {
            Interlocked.Increment(ref _stats.Bounced);
        }

        Throttle?.Wait((long)length);
        var bounce = Bounce;
        for (ulong done = 0; done < length;)
        {
            int chunk = (int)Math.Min(length - done, (ulong)bounce.Length);
            chain.Read(HeaderSize + done, bounce[..chunk]);
            if (!_backend.Write(offset + (long)done, bounce[..chunk]))
            {
                return StatusIoError;
            }

            done += (ulong)chunk;
        }

        Interlocked.Increment(ref _stats.Writes);
        Interlocked.Add(ref _stats.BytesWritten, (long)length);
        return StatusOk;
    }

    private byte Flush()
    {
        Interlocked.Increment(ref _stats.Flushes);
        return _backend.Flush() ? StatusOk : StatusIoError;
    }

    private byte GetId(DescriptorChain chain, out uint written)
    {
        written = (uint)Math.Min((ulong)IdLength, chain.WritableLength - 1);
        chain.Write(0, _id.AsSpan(0, (int)written));
        return StatusOk;
    }

    /// <summary>DISCARD and WRITE_ZEROES: readable segments of { le64 sector, le32 num_sectors, le32 flags } after the header.</summary>
    private byte DiscardOrZero(DescriptorChain chain, bool discard)
    {
        ulong feature = discard ? FeatureDiscard : FeatureWriteZeroes;
        if ((_features & feature) == 0)
        {
            return StatusUnsupported;
        }

        ulong payload = chain.ReadableLength - HeaderSize;
        if (_backend.IsReadOnly || payload == 0 || payload % SegmentSize != 0 || payload / SegmentSize > MaxDiscardSegments)
        {
            return StatusIoError;
        }

        Span<byte> segment = stackalloc byte[SegmentSize];
        int segments = (int)(payload / SegmentSize);
        // Check every segment before touching the disk, so a bad one leaves the disk as it was.
        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = 0; i < segments; i++)
            {
                chain.Read(HeaderSize + (ulong)(i * SegmentSize), segment);
                ulong sector = BinaryPrimitives.ReadUInt64LittleEndian(segment);
                uint count = BinaryPrimitives.ReadUInt32LittleEndian(segment[8..]);
                uint flags = BinaryPrimitives.ReadUInt32LittleEndian(segment[12..]);
                if (flags != 0 && (discard || (flags & ~WriteZeroesUnmap) != 0))
                {
                    return StatusUnsupported;
                }

                if (count > MaxSectorsPerSegment || !TryRange(sector, (ulong)count * SectorSize, out long offset))
                {
                    return StatusIoError;
                }

                long length = (long)count * SectorSize;
                if (pass == 1 && !(discard ? _backend.Discard(offset, length) : _backend.WriteZeroes(offset, length, (flags & WriteZeroesUnmap) != 0)))
                {
                    return StatusIoError;
                }
            }
        }

        return StatusOk;
    }

    /// <summary>Sector and byte length → file offset, if the whole range is inside the disk and whole sectors.</summary>
    private bool TryRange(ulong sector, ulong length, out long offset)
    {
        offset = 0;
        ulong capacity = CapacitySectors;
        // The used ring reports lengths in 32 bits, so no request moves more than that.
        if (length % SectorSize != 0 || length >= uint.MaxValue || sector > capacity || length / SectorSize > capacity - sector)
        {
            return false;
        }

        offset = (long)(sector * SectorSize);
        return true;
    }

    private struct Stats
    {
        public long InPlace;
        public long Bounced;
        public long Reads;
        public long Writes;
        public long Flushes;
        public long BytesRead;
        public long BytesWritten;
        public long Failed;
    }
}
