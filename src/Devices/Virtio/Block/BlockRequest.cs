using Platform.Devices.Abstractions;

namespace Platform.Devices.Virtio.Block;

/// <summary>
/// One virtio-blk request served in place: its data as views of guest memory (no copy), what to do with them, and
/// where its status byte goes. <see cref="VirtioBlock"/> owns a fixed set of these, one per request it may keep in
/// flight, and reuses them, so serving a request allocates nothing of ours.
/// </summary>
/// <remarks>
/// Everything here was taken from a validated descriptor chain when the request was popped, so the guest rewriting its
/// descriptors afterwards changes nothing. The device's worker prepares and publishes a request; in between exactly
/// one thread — an I/O thread, or the worker itself — runs <see cref="Execute"/>. The hand-offs go through locks or
/// interlocked queues, which order the fields' writes before the other thread's reads.
/// </remarks>
internal sealed class BlockRequest
{
    private readonly List<Memory<byte>> _toGuest = [];
    private readonly List<ReadOnlyMemory<byte>> _fromGuest = [];

    public ushort Head { get; private set; }

    /// <summary>VirtioBlock.RequestIn, RequestOut or RequestFlush.</summary>
    public uint Type { get; private set; }

    public long Offset { get; private set; }

    /// <summary>Bytes of data the request moves.</summary>
    public uint Length { get; private set; }

    /// <summary>Guest address of the status byte: the chain's last writable byte, checked to be RAM when popped.</summary>
    public ulong StatusAddress { get; private set; }

    public byte Status { get; private set; }

    /// <summary>Views over the guest's buffers so far.</summary>
    public int SegmentCount => Type == VirtioBlock.RequestIn ? _toGuest.Count : _fromGuest.Count;

    /// <summary>Bytes the device wrote into the chain, status byte not included (the used ring's length is one more).</summary>
    public uint WrittenToGuest => Type == VirtioBlock.RequestIn && Status == VirtioBlock.StatusOk ? Length : 0;

    /// <summary>Starts preparing a request; segments follow with <see cref="TryAddSegment"/>.</summary>
    public void Begin(ushort head, uint type, long offset, uint length, ulong statusAddress)
    {
        _toGuest.Clear();
        _fromGuest.Clear();
        Head = head;
        Type = type;
        Offset = offset;
        Length = length;
        StatusAddress = statusAddress;
        Status = VirtioBlock.StatusIoError;
    }

    /// <summary>Adds the guest buffer [address, + length) as the next piece of the data; false if memory will not view it.</summary>
    public bool TryAddSegment(IGuestMemory memory, ulong address, int length)
    {
        if (!memory.TryGetMemory(address, length, out var view))
        {
            return false;
        }

        if (Type == VirtioBlock.RequestIn)
        {
            _toGuest.Add(view);
        }
        else
        {
            _fromGuest.Add(view);
        }

        return true;
    }

    /// <summary>Drops the views: a request that is not in flight holds no guest memory.</summary>
    public void Release()
    {
        _toGuest.Clear();
        _fromGuest.Clear();
    }

    /// <summary>
    /// Waits for its turn under <paramref name="throttle"/> (reads and writes), does the I/O and sets <see cref="Status"/>.
    /// Never throws: a failure is the guest's IOERR.
    /// </summary>
    public void Execute(IBlockBackend backend, IoThrottle? throttle = null)
    {
        try
        {
            if (throttle is not null && Type is VirtioBlock.RequestIn or VirtioBlock.RequestOut)
            {
                throttle.Wait(Type == VirtioBlock.RequestIn ? Bytes(_toGuest) : Bytes(_fromGuest));
            }

            bool ok = Type switch
            {
                VirtioBlock.RequestIn => backend.Read(Offset, _toGuest),
                VirtioBlock.RequestOut => backend.Write(Offset, _fromGuest),
                VirtioBlock.RequestFlush => backend.Flush(),
                _ => false,
            };
            Status = ok ? VirtioBlock.StatusOk : VirtioBlock.StatusIoError;
        }
#pragma warning disable CA1031 // on an I/O thread an escaping exception would end the VMM; the guest gets IOERR instead
        catch (Exception)
#pragma warning restore CA1031
        {
            Status = VirtioBlock.StatusIoError;
        }
    }

    private static long Bytes(List<Memory<byte>> views)
    {
        long total = 0;
        foreach (var view in views)
        {
            total += view.Length;
        }

        return total;
    }

    private static long Bytes(List<ReadOnlyMemory<byte>> views)
    {
        long total = 0;
        foreach (var view in views)
        {
            total += view.Length;
        }

        return total;
    }
}
