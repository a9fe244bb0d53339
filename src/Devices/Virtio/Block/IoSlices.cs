namespace Platform.Devices.Virtio.Block;

/// <summary>Reads <paramref name="destination"/>'s length of an image file at <paramref name="offset"/>.</summary>
internal delegate bool SpanRead(long offset, Span<byte> destination);

/// <summary>Cuts a byte range out of a list of buffers laid back to back (guest-memory views to read into, or to
/// write from: the same walk over either kind).</summary>
internal static class IoSlices
{
    public static long Total(IReadOnlyList<Memory<byte>> buffers) => Total(buffers, static b => b.Length);

    public static long Total(IReadOnlyList<ReadOnlyMemory<byte>> buffers) => Total(buffers, static b => b.Length);

    public static List<Memory<byte>> Slice(IReadOnlyList<Memory<byte>> buffers, long start, long length) =>
        Slice(buffers, start, length, static b => b.Length, static (b, skip, take) => b.Slice(skip, take));

    public static List<ReadOnlyMemory<byte>> Slice(IReadOnlyList<ReadOnlyMemory<byte>> buffers, long start, long length) =>
        Slice(buffers, start, length, static b => b.Length, static (b, skip, take) => b.Slice(skip, take));

    /// <summary>
    /// After a preadv at <paramref name="offset"/> that moved only <paramref name="done"/> bytes (it stops short at the
    /// end of the file, or rarely part-way for a signal): reads the rest buffer by buffer with <paramref name="read"/>.
    /// </summary>
    public static bool ReadRest(long offset, IReadOnlyList<Memory<byte>> destinations, long done, SpanRead read)
    {
        long position = 0;
        foreach (var destination in destinations)
        {
            long end = position + destination.Length;
            if (end > done)
            {
                int skip = (int)Math.Max(0, done - position);
                if (!read(offset + position + skip, destination.Span[skip..]))
                {
                    return false;
                }
            }

            position = end;
        }

        return true;
    }

    private static long Total<T>(IReadOnlyList<T> buffers, Func<T, int> lengthOf)
    {
        long total = 0;
        for (int i = 0; i < buffers.Count; i++)
        {
            total += lengthOf(buffers[i]);
        }

        return total;
    }

    private static List<T> Slice<T>(IReadOnlyList<T> buffers, long start, long length, Func<T, int> lengthOf, Func<T, int, int, T> slice)
    {
        var pieces = new List<T>();
        long position = 0;
        for (int i = 0; i < buffers.Count && length > 0; i++)
        {
            var buffer = buffers[i];
            int bufferLength = lengthOf(buffer);
            long end = position + bufferLength;
            if (end > start)
            {
                int skip = (int)Math.Max(0, start - position);
                int take = (int)Math.Min(bufferLength - skip, length);
                pieces.Add(slice(buffer, skip, take));
                length -= take;
                start += take;
            }

            position = end;
        }

        return pieces;
    }
}
