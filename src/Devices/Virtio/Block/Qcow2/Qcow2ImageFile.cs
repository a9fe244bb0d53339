using Microsoft.Win32.SafeHandles;

namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>
/// Positioned I/O on the image file. With O_DIRECT (<see cref="Alignment"/> 512) every transfer must be a multiple of
/// 512 in file offset, length and memory address: guest data already is (the device bounces what is not), metadata
/// buffers are <see cref="AlignedBuffer"/>s, and the few unaligned pieces (a header field, an L1 entry, compressed
/// data) go through <see cref="ReadUnaligned"/>/<see cref="WriteUnaligned"/>, which round to whole sectors. Every
/// method returns false on an I/O error and leaves the reason in <see cref="LastError"/>; none throws.
/// </summary>
internal sealed class Qcow2ImageFile : IDisposable
{
    private readonly Lock _flushLock = new();
    private volatile bool _flushFailed;
    private long _writesLeft = -1;

    public Qcow2ImageFile(SafeFileHandle handle, int alignment)
    {
        Handle = handle;
        Alignment = alignment;
    }

    public SafeFileHandle Handle { get; }

    /// <summary>1, or the O_DIRECT block size.</summary>
    public int Alignment { get; }

    public string? LastError { get; private set; }

    /// <summary>
    /// Tests: after this many more writes every write fails, as if the process had been killed there (−1: never).
    /// Nothing is buffered in the process, so a kill is exactly "no more writes reach the file".
    /// </summary>
    internal long WritesLeft
    {
        get => Interlocked.Read(ref _writesLeft);
        set => Interlocked.Exchange(ref _writesLeft, value);
    }

    /// <summary>Tests: runs before every write (and flush) may go ahead; a crash test blocks in it and is killed there.</summary>
    internal Action? BeforeWrite { get; set; }

    /// <summary>Tests: writes (and flushes) that reached the file so far.</summary>
    internal long WritesDone => Interlocked.Read(ref _writesDone);

    private long _writesDone;

    public long Length
    {
        get
        {
            try
            {
                return RandomAccess.GetLength(Handle);
            }
            catch (IOException)
            {
                return 0;
            }
        }
    }

    /// <summary>Reads <paramref name="destination"/> (aligned as <see cref="Alignment"/> needs); past the end of the file reads zeros.</summary>
    public bool Read(long offset, Span<byte> destination)
    {
        try
        {
            while (destination.Length > 0)
            {
                int read = RandomAccess.Read(Handle, destination, offset);
                if (read == 0)
                {
                    destination.Clear();
                    break;
                }

                destination = destination[read..];
                offset += read;
            }

            return true;
        }
        catch (IOException ex)
        {
            return Failed("read", offset, ex);
        }
    }

    /// <summary>Reads into the buffers back to back (preadv); past the end of the file reads zeros.</summary>
    public bool Read(long offset, IReadOnlyList<Memory<byte>> destinations)
    {
        try
        {
            long done = RandomAccess.Read(Handle, destinations, offset);
            return done == IoSlices.Total(destinations) || IoSlices.ReadRest(offset, destinations, done, Read);
        }
        catch (IOException ex)
        {
            return Failed("read", offset, ex);
        }
    }

    public bool Write(long offset, ReadOnlySpan<byte> source)
    {
        if (!MayWrite(offset))
        {
            return false;
        }

        try
        {
            RandomAccess.Write(Handle, source, offset);
            return true;
        }
        catch (IOException ex)
        {
            return Failed("write", offset, ex);
        }
    }

    public bool Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> sources)
    {
        if (!MayWrite(offset))
        {
            return false;
        }

        try
        {
            RandomAccess.Write(Handle, sources, offset);
            return true;
        }
        catch (IOException ex)
        {
            return Failed("write", offset, ex);
        }
    }

    /// <summary>Reads any range into any buffer, through an aligned one when O_DIRECT needs it.</summary>
    public bool ReadUnaligned(long offset, Span<byte> destination)
    {
        if (Alignment == 1)
        {
            return Read(offset, destination);
        }

        long start = offset - (offset % Alignment);
        long end = RoundUp(offset + destination.Length);
        var buffer = new AlignedBuffer((int)(end - start));
        if (!Read(start, buffer.Span))
        {
            return false;
        }

        buffer.Span.Slice((int)(offset - start), destination.Length).CopyTo(destination);
        return true;
    }

    /// <summary>
    /// Writes any range from any buffer; under O_DIRECT the partial sectors at either end are read, patched and written
    /// back, so the caller must hold whatever lock keeps other writers off those sectors (metadata is written under
    /// the image's allocation lock).
    /// </summary>
    public bool WriteUnaligned(long offset, ReadOnlySpan<byte> source)
    {
        if (Alignment == 1)
        {
            return Write(offset, source);
        }

        long start = offset - (offset % Alignment);
        long end = RoundUp(offset + source.Length);
        var buffer = new AlignedBuffer((int)(end - start));
        if ((start != offset || end != offset + source.Length) && !Read(start, buffer.Span))
        {
            return false;
        }

        source.CopyTo(buffer.Span[(int)(offset - start)..]);
        return Write(start, buffer.Span);
    }

    /// <summary>fdatasync-like barrier: everything written so far reaches the disk before anything written after.</summary>
    public bool Flush()
    {
        lock (_flushLock)
        {
            if (_flushFailed || !MayWrite(0))
            {
                return false;
            }

            try
            {
                RandomAccess.FlushToDisk(Handle);
                return true;
            }
            catch (IOException ex)
            {
                // Latched, as the raw backend does: Linux reports a writeback error to one fsync only.
                _flushFailed = true;
                return Failed("fsync", 0, ex);
            }
        }
    }

    public void Dispose() => Handle.Dispose();

    private bool MayWrite(long offset)
    {
        BeforeWrite?.Invoke();
        long left = Interlocked.Read(ref _writesLeft);
        while (left >= 0)
        {
            if (left == 0)
            {
                LastError = $"write at {offset}: injected failure (a simulated kill)";
                return false;
            }

            if (Interlocked.CompareExchange(ref _writesLeft, left - 1, left) == left)
            {
                break;
            }

            left = Interlocked.Read(ref _writesLeft);
        }

        Interlocked.Increment(ref _writesDone);
        return true;
    }

    private long RoundUp(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private bool Failed(string operation, long offset, IOException ex)
    {
        LastError = $"{operation} at {offset}: {ex.Message}";
        return false;
    }
}
