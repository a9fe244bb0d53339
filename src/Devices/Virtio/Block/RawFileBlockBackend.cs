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
/// <para>Images opened writable take an exclusive advisory lock (read-only ones a shared lock), so two VMMs cannot
/// write one image, and a read-only user cannot watch it change underneath.</para>
/// </remarks>
public sealed class RawFileBlockBackend : IBlockBackend
{
    private static readonly byte[] Zeros = new byte[64 * 1024];

    private readonly SafeFileHandle _file;
    private readonly IFileSpaceOperations? _space;
    private bool _flushFailed;

    /// <summary>Wraps an open image (the engine may open it with flags .NET does not offer, such as O_DIRECT).</summary>
    public RawFileBlockBackend(SafeFileHandle file, bool readOnly, IFileSpaceOperations? space = null)
    {
        _file = file;
        IsReadOnly = readOnly;
        _space = space;
        Length = RandomAccess.GetLength(file);
    }

    public long Length { get; }

    public bool IsReadOnly { get; }

    public bool SupportsDiscard => _space is not null && !IsReadOnly;

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

    public bool Flush()
    {
        if (_flushFailed)
        {
            return false;
        }

        if (IsReadOnly)
        {
            return true;
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

    private bool Failed(string operation, IOException ex)
    {
        LastError = $"{operation}: {ex.Message}";
        return false;
    }
}
