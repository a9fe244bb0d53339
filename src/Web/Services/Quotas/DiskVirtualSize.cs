using System.Buffers.Binary;

namespace Platform.Web.Services.Quotas;

/// <summary>The size a guest sees of a disk file: a qcow2 header's size field, else the file's length (raw).</summary>
internal static class DiskVirtualSize
{
    private static ReadOnlySpan<byte> Qcow2Magic => [0x51, 0x46, 0x49, 0xFB]; // "QFI\xfb"

    public static long Of(string path)
    {
        try
        {
            using var file = File.OpenHandle(path);
            Span<byte> header = stackalloc byte[32];
            int read = RandomAccess.Read(file, header, 0);
            return read == header.Length && header[..4].SequenceEqual(Qcow2Magic)
                ? (long)BinaryPrimitives.ReadUInt64BigEndian(header[24..])
                : RandomAccess.GetLength(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0; // Not made yet, or gone: it takes no space the quota counts.
        }
    }
}
