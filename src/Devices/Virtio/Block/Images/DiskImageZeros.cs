using Microsoft.Win32.SafeHandles;

namespace Platform.Devices.Virtio.Block.Images;

/// <summary>Writes zeros over a range so the host allocates it (full preallocation), a MiB at a time.</summary>
internal static class DiskImageZeros
{
    private static readonly byte[] Zeros = new byte[1 << 20];

    public static void Write(SafeFileHandle file, long offset, long length, Action<long> wrote, CancellationToken cancellationToken)
    {
        for (long done = 0; done < length;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(Zeros.Length, length - done);
            RandomAccess.Write(file, Zeros.AsSpan(0, n), offset + done);
            done += n;
            wrote(n);
        }
    }
}
