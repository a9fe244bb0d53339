using System.IO.Compression;

namespace Platform.Engine.Vnc.Encoders;

/// <summary>
/// One zlib stream that lives as long as the connection, as ZRLE and Tight require: the client keeps the matching
/// inflater, so the dictionary carries from one rectangle to the next. Each <see cref="Flush"/> is a sync flush, after
/// which everything written so far can be inflated — the point where a rectangle's data ends.
/// </summary>
/// <remarks>
/// The level can change mid-stream without the client knowing (<see cref="SetLevel"/>), as QEMU's and TigerVNC's
/// <c>deflateParams</c> does: .NET has no deflateParams, so the compressor is replaced by a new raw deflater at the new
/// level whose blocks continue the same stream. That is valid deflate: the stream is byte-aligned after a sync flush,
/// the new blocks refer to nothing before them (one lost dictionary: slightly worse compression for a moment), and the
/// zlib header was sent once at the start while the Adler-32 trailer never is (the stream never ends). Asking the
/// client to reset its inflater instead (Tight's reset bits) is what the protocol offers, but noVNC's reset (pako's
/// inflateReset) then fails on the stream's next back-reference ("invalid distance too far back"), and ZRLE has no
/// reset at all.
/// </remarks>
internal sealed class ZlibChannel : IDisposable
{
    private readonly BufferSink _sink = new();
    private Stream? _deflater;
    private bool _started;
    private int _level = 6;

    /// <summary>Compresses at <paramref name="level"/> from the next <see cref="Write"/> on, in the same stream.</summary>
    public void SetLevel(int level)
    {
        if (level == _level)
        {
            return;
        }

        _level = level;
        // The old compressor's closing bytes (a final block) go nowhere: the sink has no target between messages.
        _sink.Target = null;
        _deflater?.Dispose();
        _deflater = null;
    }

    /// <summary>Compresses <paramref name="data"/>; the output goes to <paramref name="output"/> as it is produced.</summary>
    public void Write(ReadOnlySpan<byte> data, RfbBuffer output)
    {
        Stream(output).Write(data);
    }

    /// <summary>Sync-flushes into <paramref name="output"/>: the client can now inflate all data written.</summary>
    public void Flush(RfbBuffer output)
    {
        Stream(output).Flush();
        _sink.Target = null;
    }

    private Stream Stream(RfbBuffer output)
    {
        _sink.Target = output;
        if (_deflater is null)
        {
            // The first compressor writes the zlib header; a later one (after a level change) continues with raw blocks.
            var options = new ZLibCompressionOptions { CompressionLevel = Math.Clamp(_level, 1, 9) };
            _deflater = _started ? new DeflateStream(_sink, options, leaveOpen: true) : new ZLibStream(_sink, options, leaveOpen: true);
            _started = true;
        }

        return _deflater;
    }

    public void Dispose()
    {
        _sink.Target = null;
        _deflater?.Dispose();
        _deflater = null;
    }

    /// <summary>A write-only stream that appends to whichever buffer the current message is built in.</summary>
    private sealed class BufferSink : Stream
    {
        public RfbBuffer? Target { get; set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            // Only a flush or dispose can reach here without a target; what a dispose writes is never sent.
            Target?.Write(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
