using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Platform.Web.Services.Disks;

/// <summary>
/// Two things about a host file .NET does not give: the bytes the file system allocated to it (<c>st_blocks</c> × 512),
/// which for a sparse disk is what it really takes, not its length (x86-64 Linux's <c>struct stat</c>: 144 bytes,
/// <c>st_blocks</c> at offset 64, the only platform the dashboard runs on); and a read-only handle without the shared
/// <c>flock</c> .NET's own opens take, which a running VMM's exclusive lock on its disk would refuse.
/// </summary>
internal static partial class HostFileNative
{
    private const int StatSize = 144;
    private const int BlocksOffset = 64;

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code, which only the engine may have; a byte[] is blittable.
    [DllImport("libc", EntryPoint = "stat", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Stat(string path, [Out] byte[] buffer);

    [DllImport("libc", EntryPoint = "open", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Open(string path, int flags);
#pragma warning restore SYSLIB1054

    private const int ReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC

    /// <summary>Opens <paramref name="path"/> for reading, taking no lock; throws <see cref="IOException"/> with the reason.</summary>
    public static SafeFileHandle OpenUnlocked(string path)
    {
        int fd = Open(path, ReadOnlyCloseOnExec);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)}.");
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Bytes allocated to <paramref name="path"/>; throws <see cref="IOException"/> when it cannot be read.</summary>
    public static long AllocatedBytes(string path)
    {
        byte[] buffer = new byte[StatSize];
        if (Stat(path, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Cannot read {path}'s size on disk: {Marshal.GetPInvokeErrorMessage(errno)}.");
        }

        return BitConverter.ToInt64(buffer, BlocksOffset) * 512;
    }
}
