using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Platform.Devices.Virtio.Block.Images;

/// <summary>
/// The one system call the image library needs that .NET does not offer: the blocks a file occupies (st_blocks), which
/// is what a sparse image really takes on the host. Blittable arguments only, so no unsafe code in Devices.
/// </summary>
internal static class FileAllocationNative
{
    /// <summary>Bytes of <c>struct stat</c> on 64-bit Linux (x86-64 and arm64), rounded up.</summary>
    private const int StatBytes = 256;

    /// <summary>Offset of <c>st_blocks</c> (512-byte units) on x86-64 and arm64 alike.</summary>
    private const int BlocksOffset = 64;

    /// <summary>Bytes allocated to the file, or null where the host cannot say (then callers fall back to the length).</summary>
    public static long? AllocatedBytes(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess)
        {
            return null;
        }

        byte[] stat = new byte[StatBytes];
        try
        {
            return FStat(file, stat) == 0 ? BitConverter.ToInt64(stat, BlocksOffset) * 512 : null;
        }
        catch (EntryPointNotFoundException)
        {
            return null; // glibc before 2.33 exports fstat only as __fxstat
        }
    }

    // DllImport rather than LibraryImport: the generator emits unsafe code, which Devices does not allow; a SafeHandle
    // and a byte array marshal without it.
#pragma warning disable SYSLIB1054, CA5392
    [DllImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static extern int FStat(SafeFileHandle file, [Out] byte[] stat);
#pragma warning restore SYSLIB1054, CA5392
}
