using System.IO.Compression;

namespace Platform.Engine.Tests.Vnc.Support;

/// <summary>
/// A zlib inflater that lives across rectangles, as ZRLE and Tight decoders keep theirs: compressed bytes are fed in
/// as they arrive and <see cref="Output"/> yields what they inflate to.
/// </summary>
internal sealed class TestInflater : IDisposable
{
    private readonly FeedStream _input = new();
    private ZLibStream? _zlib;

    public Stream Output => _zlib ??= new ZLibStream(_input, CompressionMode.Decompress, leaveOpen: true);

    public void Feed(byte[] compressed) => _input.Append(compressed);

    /// <summary>Starts over with a new stream (Tight's reset bits).</summary>
    public void Reset()
    {
        _zlib?.Dispose();
        _zlib = null;
        _input.Clear();
    }

    public void Dispose() => _zlib?.Dispose();

    /// <summary>Bytes appended at the end and read from the front; reading past what is there returns 0.</summary>
    private sealed class FeedStream : Stream
    {
        private readonly Queue<byte[]> _chunks = new();
        private int _offset;

        public void Append(byte[] chunk)
        {
            if (chunk.Length > 0)
            {
                _chunks.Enqueue(chunk);
            }
        }

        public void Clear()
        {
            _chunks.Clear();
            _offset = 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_chunks.Count == 0)
            {
                return 0;
            }

            byte[] chunk = _chunks.Peek();
            int n = Math.Min(buffer.Length, chunk.Length - _offset);
            chunk.AsSpan(_offset, n).CopyTo(buffer);
            _offset += n;
            if (_offset == chunk.Length)
            {
                _chunks.Dequeue();
                _offset = 0;
            }

            return n;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
