namespace Platform.Devices.Virtio.Block;

/// <summary>
/// Where a virtio-blk device's sectors live. Offsets and lengths are bytes, already checked by the device against
/// <see cref="Length"/> and the sector size. Every method reports failure by returning false (the device answers
/// the guest with VIRTIO_BLK_S_IOERR); none throws for an I/O error.
/// </summary>
/// <remarks>
/// The device keeps several requests in flight: <see cref="Read(long, Span{byte})"/>, <see cref="Write(long, ReadOnlySpan{byte})"/>,
/// their vectored forms and <see cref="Flush"/> may run on several threads at once (positioned I/O, as QEMU's thread
/// pool does it). <see cref="Discard"/> and <see cref="WriteZeroes"/> come from the device's worker only.
/// </remarks>
public interface IBlockBackend : IDisposable
{
    /// <summary>Size of the disk in bytes.</summary>
    long Length { get; }

    bool IsReadOnly { get; }

    /// <summary>Whether <see cref="Discard"/> can release space (the device offers VIRTIO_BLK_F_DISCARD only then).</summary>
    bool SupportsDiscard { get; }

    /// <summary>The last failure, for logs and <c>query-stats</c>.</summary>
    string? LastError { get; }

    /// <summary>
    /// What buffers handed to the backend must be a multiple of, in host address and length, and file offsets too:
    /// the logical block size when the image bypasses the page cache (O_DIRECT), else 1. The device copies through an
    /// aligned buffer of its own when a guest buffer does not meet it.
    /// </summary>
    int RequiredAlignment { get; }

    bool Read(long offset, Span<byte> destination);

    /// <summary>Reads into the buffers back to back, straight into guest memory (preadv).</summary>
    bool Read(long offset, IReadOnlyList<Memory<byte>> destinations);

    /// <summary>Writes; when this returns true the data is in the host kernel (it survives the VMM being killed).</summary>
    bool Write(long offset, ReadOnlySpan<byte> source);

    /// <summary>Writes the buffers back to back (pwritev); true means the same as for <see cref="Write(long, ReadOnlySpan{byte})"/>.</summary>
    bool Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> sources);

    /// <summary>
    /// Makes every completed write durable (fsync). Once a flush failed, every later flush fails too, and flushes
    /// never overlap, so a failure one reports cannot be consumed by another reporting success.
    /// </summary>
    bool Flush();

    /// <summary>Releases the range; its contents are unspecified afterwards (reads as zeros for a punched hole).</summary>
    bool Discard(long offset, long length);

    /// <summary>Makes the range read as zeros; may deallocate it when <paramref name="mayUnmap"/>.</summary>
    bool WriteZeroes(long offset, long length, bool mayUnmap);
}

/// <summary>
/// File-space operations that need system calls Devices does not make (fallocate with PUNCH_HOLE / ZERO_RANGE).
/// The engine implements this; without it a raw file backend offers no discard and writes zeroes by writing zeros.
/// </summary>
public interface IFileSpaceOperations
{
    /// <summary>Deallocates [offset, offset + length) keeping the file size; the range then reads as zeros.</summary>
    bool TryPunchHole(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, long length, out string? failure);

    /// <summary>Zeroes [offset, offset + length) keeping it allocated (FALLOC_FL_ZERO_RANGE).</summary>
    bool TryZeroRange(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, long length, out string? failure);
}
