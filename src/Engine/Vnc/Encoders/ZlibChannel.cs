using System.IO.Compression;

namespace Platform.Engine.Vnc.Encoders;

/// <summary>
/// One zlib stream that lives as long as the connection, as ZRLE and Tight require: the client keeps the matching
/// inflater, so the dictionary carries from one rectangle to the next. Each <see cref="Flush"/> is a sync flush, after
/// which everything written so far can be inflated — the point where a rectangle's data ends.
/// </summary>
internal sealed class ZlibChannel : IDisposable
{
    private readonly BufferSink _sink = new();
    private ZLibStream? _zlib;
    private int _level = 6;

    /// <summary>The zlib level (1–9) the stream compresses at.</summary>
    public int Level => _level;

    /// <summary>True when no stream exists yet, so the next data starts a new one (the client must reset its inflater).</summary>
    public bool IsFresh => _zlib is null;

    /// <summary>Starts a new stream at <paramref name="level"/> if the level changed; returns true if the stream was reset.</summary>
    public bool EnsureLevel(int level)
    {
        if (_zlib is not null && level == _level)
        {
            return false;
        }

        bool hadStream = _zlib is not null;
        _zlib?.Dispose();
        _zlib = null;
        _level = level;
        return hadStream;
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

    private ZLibStream Stream(RfbBuffer output)
    {
        _sink.Target = output;
        return _zlib ??= new ZLibStream(_sink, new ZLibCompressionOptions { CompressionLevel = Math.Clamp(_level, 1, 9) }, leaveOpen: true);
    }

    public void Dispose()
    {
        _sink.Target = null;
        _zlib?.Dispose();
        _zlib = null;
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
