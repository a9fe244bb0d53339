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
public sealed class RawFileBlockBackend : IBlockBackend, IDiskImage, IGrowableDisk
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
        _length = RandomAccess.GetLength(file);
    }

    private long _length;

    public long Length => Volatile.Read(ref _length);

    public bool IsReadOnly { get; }

    public bool SupportsDiscard => _space is not null && !IsReadOnly;

    public int RequiredAlignment { get; }

    public string? LastError { get; private set; }

    /// <summary>The image file, for messages and <see cref="Describe"/>.</summary>
    public string? Path { get; init; }

    /// <summary>
    /// Refuse writes that would make the image start with the qcow2 magic. Set when the format was detected rather than
    /// given: otherwise a guest could write a qcow2 header naming a host file as its backing file into its own raw disk,
    /// and the next start would read that file into the guest (QEMU guards probed raw images the same way).
    /// </summary>
    public bool RefuseFormatMagic { get; init; }

    public DiskImageFormat Format => DiskImageFormat.Raw;

    /// <summary>Opens <see cref="DiskOptions.Path"/> as the options say; throws <see cref="IOException"/> with the reason when it cannot.</summary>
    public static RawFileBlockBackend Open(DiskOptions options, IFileSpaceOperations? space = null) =>
        new(OpenFile(options), options.ReadOnly, space) { Path = options.Path };

    /// <summary>
    /// Opens the file as the options say (exclusive lock when writable, shared when read-only; write-through for
    /// <c>cache=none</c>); throws <see cref="IOException"/> with the reason when it cannot.
    /// </summary>
    public static SafeFileHandle OpenFile(DiskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var access = options.ReadOnly ? FileAccess.Read : FileAccess.ReadWrite;
        var share = options.ReadOnly ? FileShare.Read : FileShare.None;
        var flags = options.Cache == DiskCacheMode.None && !options.ReadOnly ? FileOptions.WriteThrough : FileOptions.None;
        try
        {
            return options.ReadOnly ? Storage.KeptFiles.OpenRead(options.Path, share) : File.OpenHandle(options.Path, FileMode.Open, access, share, flags);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException(
                $"Cannot open the disk image {options.Path}: {ex.Message}. Is another VM using it? Open it with ,ro to share it read-only.", ex);
        }
    }

    public DiskImageDescription Describe() =>
        new(Path ?? "(raw image)", DiskImageFormat.Raw, Length, SafeLength()) { ReadOnly = IsReadOnly };

    public void AddCounters(IDictionary<string, long> counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        counters["virtual_bytes"] = Length;
        counters["image_bytes"] = SafeLength();
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
            long read = RandomAccess.Read(_file, destinations, offset);
            // preadv stops short only at the end of the file (or, rarely, part-way for a signal): go on with the rest,
            // where Read gives zeros past the end.
            return read == IoSlices.Total(destinations) || IoSlices.ReadRest(offset, destinations, read, Read);
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

        if (RefuseFormatMagic && offset < 4 && WouldStartWithMagic(offset, source))
        {
            return RefusedMagic();
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
        ArgumentNullException.ThrowIfNull(sources);
        if (IsReadOnly)
        {
            LastError = "write to a read-only image";
            return false;
        }

        if (RefuseFormatMagic && offset < 4)
        {
            Span<byte> start = stackalloc byte[4];
            int gathered = 0;
            for (int i = 0; i < sources.Count && gathered < start.Length; i++)
            {
                var piece = sources[i].Span[..Math.Min(sources[i].Length, start.Length - gathered)];
                piece.CopyTo(start[gathered..]);
                gathered += piece.Length;
            }

            if (WouldStartWithMagic(offset, start[..gathered]))
            {
                return RefusedMagic();
            }
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

    /// <summary>Extends the file (sparse: the new sectors read as zeros) and makes the new length durable.</summary>
    public void Grow(long newSize)
    {
        string name = Path ?? "(raw image)";
        if (IsReadOnly)
        {
            throw new DiskImageException($"{name}: the disk is read-only; it cannot grow.");
        }

        long size = Length;
        if (newSize < size)
        {
            throw new DiskImageException(
                $"{name}: shrinking a disk from {DiskImageDescription.Bytes(size)} to {DiskImageDescription.Bytes(newSize)} is refused: the guest's partitions and file systems reach to the end, and cutting it off loses their data.");
        }

        if (newSize % 512 != 0)
        {
            throw new DiskImageException($"{name}: {newSize} bytes is not a whole number of 512-byte sectors.");
        }

        if (newSize == size)
        {
            return;
        }

        lock (_flushLock)
        {
            RandomAccess.SetLength(_file, newSize);
            RandomAccess.FlushToDisk(_file);
        }

        Volatile.Write(ref _length, newSize);
    }

    public void Dispose() => _file.Dispose();

    /// <summary>Whether writing <paramref name="data"/> at <paramref name="offset"/> (below 4) would leave the qcow2 magic at byte 0.</summary>
    private bool WouldStartWithMagic(long offset, ReadOnlySpan<byte> data)
    {
        Span<byte> start = stackalloc byte[4];
        start.Clear();
        try
        {
            RandomAccess.Read(_file, start, 0);
        }
        catch (IOException)
        {
            // Under O_DIRECT a 4-byte read fails; judge by the new bytes alone then (a write at 0 covers them all).
        }

        data[..Math.Min(data.Length, 4 - (int)offset)].CopyTo(start[(int)offset..]);
        return DiskImageProbe.HasQcowMagic(start);
    }

    private bool RefusedMagic()
    {
        LastError = "write refused: it would put a qcow2 header at the start of a raw image whose format was detected, not given " +
            "(give format=raw to allow it)";
        return false;
    }

    private long SafeLength()
    {
        try
        {
            return RandomAccess.GetLength(_file);
        }
        catch (IOException)
        {
            return Length;
        }
    }

    private bool Failed(string operation, IOException ex)
    {
        LastError = $"{operation}: {ex.Message}";
        return false;
    }
}
