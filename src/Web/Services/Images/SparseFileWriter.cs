namespace Platform.Web.Services.Images;

/// <summary>
/// Writes a stream of bytes to a file keeping its holes: a block of zeros is seeked over instead of written, so a
/// sparse disk image (a 2 GiB raw disk with 30 MiB of data) takes its data's room on the host, not its size.
/// Reading the file back gives the same bytes, since the file system reads holes as zeros.
/// </summary>
internal sealed class SparseFileWriter(FileStream file)
{
    /// <summary>The file system's usual block: smaller zero runs would not make holes anyway.</summary>
    private const int BlockSize = 4096;

    /// <summary>Bytes actually written (the rest became holes).</summary>
    public long WrittenBytes { get; private set; }

    public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        int offset = 0;
        while (offset < data.Length)
        {
            // A run of data blocks is written in one call; a run of zero blocks becomes one seek.
            int length = Math.Min(BlockSize, data.Length - offset);
            bool zero = IsZero(data.Span.Slice(offset, length));
            int end = offset + length;
            while (end < data.Length)
            {
                int next = Math.Min(BlockSize, data.Length - end);
                if (IsZero(data.Span.Slice(end, next)) != zero)
                {
                    break;
                }

                end += next;
            }

            if (zero)
            {
                file.Seek(end - offset, SeekOrigin.Current);
            }
            else
            {
                await file.WriteAsync(data[offset..end], cancellationToken);
                WrittenBytes += end - offset;
            }

            offset = end;
        }
    }

    /// <summary>Sets the file's length to what was written and seeked over: trailing zeros are a hole, not missing bytes.</summary>
    public void Complete() => file.SetLength(file.Position);

    private static bool IsZero(ReadOnlySpan<byte> block) => !block.ContainsAnyExcept((byte)0);
}
