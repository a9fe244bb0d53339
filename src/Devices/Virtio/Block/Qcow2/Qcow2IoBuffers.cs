namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>
/// Where a read's bytes go, addressed by position within the request: one span (the device's bounce buffer) or a list
/// of guest-memory views (preadv). The read loop works on runs of clusters and asks for each run's part.
/// </summary>
internal interface IReadTarget
{
    long Length { get; }

    void Clear(long start, long length);

    bool ReadFile(Qcow2ImageFile file, long fileOffset, long start, long length);

    bool ReadBacking(IBlockBackend backing, long offset, long start, long length);

    void CopyFrom(ReadOnlySpan<byte> data, long start);
}

/// <summary>Where a write's bytes come from, addressed by position within the request.</summary>
internal interface IWriteSource
{
    long Length { get; }

    bool WriteFile(Qcow2ImageFile file, long fileOffset, long start, long length);

    void CopyTo(long start, Span<byte> destination);
}

internal ref struct SpanReadTarget(Span<byte> span) : IReadTarget
{
    private readonly Span<byte> _span = span;

    public readonly long Length => _span.Length;

    public readonly void Clear(long start, long length) => _span.Slice((int)start, (int)length).Clear();

    public readonly bool ReadFile(Qcow2ImageFile file, long fileOffset, long start, long length) =>
        file.Read(fileOffset, _span.Slice((int)start, (int)length));

    public readonly bool ReadBacking(IBlockBackend backing, long offset, long start, long length) =>
        backing.Read(offset, _span.Slice((int)start, (int)length));

    public readonly void CopyFrom(ReadOnlySpan<byte> data, long start) => data.CopyTo(_span[(int)start..]);
}

internal readonly struct ListReadTarget(IReadOnlyList<Memory<byte>> buffers) : IReadTarget
{
    private readonly IReadOnlyList<Memory<byte>> _buffers = buffers;

    public long Length { get; } = IoSlices.Total(buffers);

    public void Clear(long start, long length)
    {
        foreach (var piece in IoSlices.Slice(_buffers, start, length))
        {
            piece.Span.Clear();
        }
    }

    public bool ReadFile(Qcow2ImageFile file, long fileOffset, long start, long length)
    {
        var pieces = IoSlices.Slice(_buffers, start, length);
        return pieces.Count == 1 ? file.Read(fileOffset, pieces[0].Span) : file.Read(fileOffset, pieces);
    }

    public bool ReadBacking(IBlockBackend backing, long offset, long start, long length) =>
        backing.Read(offset, IoSlices.Slice(_buffers, start, length));

    public void CopyFrom(ReadOnlySpan<byte> data, long start)
    {
        foreach (var piece in IoSlices.Slice(_buffers, start, data.Length))
        {
            data[..piece.Length].CopyTo(piece.Span);
            data = data[piece.Length..];
        }
    }
}

internal readonly ref struct SpanWriteSource(ReadOnlySpan<byte> span) : IWriteSource
{
    private readonly ReadOnlySpan<byte> _span = span;

    public long Length => _span.Length;

    public bool WriteFile(Qcow2ImageFile file, long fileOffset, long start, long length) =>
        file.Write(fileOffset, _span.Slice((int)start, (int)length));

    public void CopyTo(long start, Span<byte> destination) => _span.Slice((int)start, destination.Length).CopyTo(destination);
}

internal readonly struct ListWriteSource(IReadOnlyList<ReadOnlyMemory<byte>> buffers) : IWriteSource
{
    private readonly IReadOnlyList<ReadOnlyMemory<byte>> _buffers = buffers;

    public long Length { get; } = IoSlices.Total(buffers);

    public bool WriteFile(Qcow2ImageFile file, long fileOffset, long start, long length)
    {
        var pieces = IoSlices.Slice(_buffers, start, length);
        return pieces.Count == 1 ? file.Write(fileOffset, pieces[0].Span) : file.Write(fileOffset, pieces);
    }

    public void CopyTo(long start, Span<byte> destination)
    {
        foreach (var piece in IoSlices.Slice(_buffers, start, destination.Length))
        {
            piece.Span.CopyTo(destination);
            destination = destination[piece.Length..];
        }
    }
}
