using Platform.Devices.Abstractions;

namespace Platform.Devices.Virtio.Queue;

/// <summary>
/// A popped descriptor chain, already validated: device-readable buffers first, then device-writable ones, every
/// buffer inside guest RAM. Valid until the next <see cref="VirtQueue.TryPop"/> on the same queue (it views the
/// queue's own buffer list, so popping allocates nothing).
/// </summary>
/// <remarks>
/// Devices address the chain as two byte streams — the readable bytes and the writable bytes — through
/// <see cref="Read"/> and <see cref="Write"/>, so they never depend on how the driver split a request into
/// descriptors (VIRTIO_F_ANY_LAYOUT is implied by VIRTIO_F_VERSION_1).
/// </remarks>
public readonly ref struct DescriptorChain
{
    private readonly IGuestMemory _memory;

    internal DescriptorChain(IGuestMemory memory, ushort head, ReadOnlySpan<GuestBuffer> buffers, int readableCount,
        ulong readableLength, ulong writableLength)
    {
        _memory = memory;
        Head = head;
        Readable = buffers[..readableCount];
        Writable = buffers[readableCount..];
        ReadableLength = readableLength;
        WritableLength = writableLength;
    }

    /// <summary>The head descriptor's index: what <see cref="VirtQueue.AddUsed"/> returns to the driver.</summary>
    public ushort Head { get; }

    public ReadOnlySpan<GuestBuffer> Readable { get; }

    public ReadOnlySpan<GuestBuffer> Writable { get; }

    public ulong ReadableLength { get; }

    public ulong WritableLength { get; }

    /// <summary>Copies readable bytes from <paramref name="offset"/> into <paramref name="destination"/>; returns how many were copied.</summary>
    public int Read(ulong offset, Span<byte> destination) => Copy(Readable, offset, destination, default, toGuest: false);

    /// <summary>Copies <paramref name="source"/> into the writable bytes at <paramref name="offset"/>; returns how many were copied.</summary>
    public int Write(ulong offset, ReadOnlySpan<byte> source) => Copy(Writable, offset, default, source, toGuest: true);

    private int Copy(ReadOnlySpan<GuestBuffer> buffers, ulong offset, Span<byte> destination, ReadOnlySpan<byte> source, bool toGuest)
    {
        int wanted = toGuest ? source.Length : destination.Length;
        int done = 0;
        foreach (var buffer in buffers)
        {
            if (done == wanted)
            {
                break;
            }

            if (offset >= buffer.Length)
            {
                offset -= buffer.Length;
                continue;
            }

            int chunk = (int)Math.Min((ulong)(wanted - done), buffer.Length - offset);
            ulong address = buffer.Address + offset;
            bool ok = toGuest
                ? _memory.TryWrite(address, source.Slice(done, chunk))
                : _memory.TryRead(address, destination.Slice(done, chunk));
            if (!ok)
            {
                break;
            }

            done += chunk;
            offset = 0;
        }

        return done;
    }
}
