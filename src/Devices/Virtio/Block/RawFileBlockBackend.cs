using Microsoft.Win32.SafeHandles;

namespace Platform.Devices.Virtio.Block;

/// <summary>
/// A raw disk image file: sector N is bytes N·512 of the file. Reads and writes are positioned (pread/pwrite through
/// <see cref="RandomAccess"/>), so a write has reached the host kernel when it returns — it survives the VMM being
/// killed — and <see cref="Flush"/> is an fsync that makes it survive the host.
/// </summary>
/// <remarks>
/// <para>A failed fsync is latched: Linux reports a writeback error to fsync once and may then report success for
/// pages it has dropped, so retrying could turn lost data into a "successful" flush. After one failure every
/// flush fails (QEMU does the same).</para>
/// <para>Reads, writes and flushes may run on several threads at once; flushes are serialized among themselves, so
/// the fsync that sees a writeback error is the one whose failure is latched before any other flush can run.</para>
/// <para>Images opened writable take an exclusive advisory lock (read-only ones a shared lock), so two VMMs cannot
/// write one image, and a read-only user cannot watch it change underneath.</para>
/// </remarks>
public sealed class RawFileBlockBackend : IBlockBackend
{
    private static readonly byte[] Zeros = new byte[64 * 1024];

    private readonly SafeFileHandle _file;
    private readonly IFileSpaceOperations? _space;
    private readonly Lock _flushLock = new();
    private volatile bool _flushFailed;

    /// <summary>
    /// Wraps an open image (the engine may open it with flags .NET does not offer, such as O_DIRECT, and then says
    /// what alignment that needs in <paramref name="requiredAlignment"/>).
    /// </summary>
    public RawFileBlockBackend(SafeFileHandle file, bool readOnly, IFileSpaceOperations? space = null, int requiredAlignment = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(requiredAlignment, 1);
        if ((requiredAlignment & (requiredAlignment - 1)) != 0 || requiredAlignment > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(requiredAlignment), requiredAlignment, "The alignment is a power of two up to a page.");
        }

        _file = file;
        IsReadOnly = readOnly;
        _space = space;
        RequiredAlignment = requiredAlignment;
        Length = RandomAccess.GetLength(file);
    }

    public long Length { get; }

    public bool IsReadOnly { get; }

    public bool SupportsDiscard => _space is not null && !IsReadOnly;

    public int RequiredAlignment { get; }

    public string? LastError { get; private set; }

    /// <summary>Opens <see cref="DiskOptions.Path"/> as the options say; throws <see cref="IOException"/> with the reason when it cannot.</summary>
    public static RawFileBlockBackend Open(DiskOptions options, IFileSpaceOperations? space = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var access = options.ReadOnly ? FileAccess.Read : FileAccess.ReadWrite;
        var share = options.ReadOnly ? FileShare.Read : FileShare.None;
        var flags = options.Cache == DiskCacheMode.None && !options.ReadOnly ? FileOptions.WriteThrough : FileOptions.None;
        try
        {
            return new RawFileBlockBackend(File.OpenHandle(options.Path, FileMode.Open, access, share, flags), options.ReadOnly, space);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException(
                $"Cannot open the disk image {options.Path}: {ex.Message}. Is another VM using it? Open it with ,ro to share it read-only.", ex);
        }
    }

    public bool Read(long offset, Span<byte> destination)
    {
        try
        {
            while (destination.Length > 0)
            {
                int read = RandomAccess.Read(_file, destination, offset);
                if (read == 0)
                {
                    destination.Clear(); // the image shrank under us: what is past its end reads as zeros
                    break;
                }

                destination = destination[read..];
                offset += read;
            }

            return true;
        }
        catch (IOException ex)
        {
            return Failed("read", ex);
        }
    }

    public bool Read(long offset, IReadOnlyList<Memory<byte>> destinations)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        try
        {
            long wanted = 0;
            foreach (var destination in destinations)
            {
                wanted += destination.Length;
            }

            long read = RandomAccess.Read(_file, destinations, offset);
            // preadv stops short only at the end of the file (or, rarely, part-way for a signal): go on with the rest.
            return read == wanted || ReadRest(offset, destinations, read);
        }
        catch (IOException ex)
        {
            return Failed("read", ex);
        }
    }

    public bool Write(long offset, ReadOnlySpan<byte> source)
    {
        if (IsReadOnly)
        {
            LastError = "write to a read-only image";
            return false;
        }

        try
        {
            RandomAccess.Write(_file, source, offset);
            return true;
        }
        catch (IOException ex)
        {
            return Failed("write", ex);
        }
    }

    public bool Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> sources)
    {
        if (IsReadOnly)
        {
            LastError = "write to a read-only image";
            return false;
        }

        try
        {
            RandomAccess.Write(_file, sources, offset); // pwritev, repeated by .NET until every byte is written
            return true;
        }
        catch (IOException ex)
        {
            return Failed("write", ex);
        }
    }

    public bool Flush()
    {
        if (IsReadOnly)
        {
            return !_flushFailed;
        }

        lock (_flushLock)
        {
            if (_flushFailed)
            {
                return false;
            }

            try
            {
                RandomAccess.FlushToDisk(_file);
                return true;
            }
            catch (IOException ex)
            {
                _flushFailed = true;
                return Failed("fsync", ex);
            }
        }
    }

    public bool Discard(long offset, long length)
    {
        if (!SupportsDiscard)
        {
            return false;
        }

        bool ok = _space!.TryPunchHole(_file, offset, length, out string? error);
        if (!ok)
        {
            LastError = $"discard: {error}";
        }

        return ok;
    }

    public bool WriteZeroes(long offset, long length, bool mayUnmap)
    {
        if (IsReadOnly)
        {
            return false;
        }

        if (_space is not null)
        {
            string? error;
            if ((mayUnmap && _space.TryPunchHole(_file, offset, length, out error)) || _space.TryZeroRange(_file, offset, length, out error))
            {
                return true;
            }

            LastError = $"write zeroes: {error}"; // fall back to writing zeros: the guest asked for zeros, not for a hole
        }

        while (length > 0)
        {
            int chunk = (int)Math.Min(length, Zeros.Length);
            if (!Write(offset, Zeros.AsSpan(0, chunk)))
            {
                return false;
            }

            offset += chunk;
            length -= chunk;
        }

        return true;
    }

    public void Dispose() => _file.Dispose();

    /// <summary>After a short preadv that moved <paramref name="done"/> bytes: reads the rest buffer by buffer; past the end of the file reads as zeros.</summary>
    private bool ReadRest(long offset, IReadOnlyList<Memory<byte>> destinations, long done)
    {
        long position = 0;
        foreach (var destination in destinations)
        {
            long end = position + destination.Length;
            if (end > done)
            {
                int skip = (int)Math.Max(0, done - position);
                if (!Read(offset + position + skip, destination.Span[skip..]))
                {
                    return false;
                }
            }

            position = end;
        }

        return true;
    }

    private bool Failed(string operation, IOException ex)
    {
        LastError = $"{operation}: {ex.Message}";
        return false;
    }
}
