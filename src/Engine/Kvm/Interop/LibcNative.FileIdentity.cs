using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm.Interop;

/// <summary>What stat(2) says makes a file that file: the jail compares a disk's name with what the VMM holds open.</summary>
/// <param name="Mode">st_mode: the type bits (0xF000) and the permissions.</param>
/// <param name="Links">st_nlink: how many names the file has.</param>
internal readonly record struct FileIdentity(ulong Device, ulong Inode, ulong Links, uint Mode)
{
    public bool IsRegularFile => (Mode & 0xF000) == 0x8000;

    public bool IsBlockDevice => (Mode & 0xF000) == 0x6000;

    public bool SameFileAs(FileIdentity other) => Device == other.Device && Inode == other.Inode;
}

/// <summary>stat(2) and fstat(2) for <see cref="FileIdentity"/> (x86-64's 144-byte struct stat).</summary>
internal static partial class LibcNative
{
    public const int ONoCtty = 0x100;

    public static unsafe FileIdentity? StatIdentity(string path)
    {
        byte* buffer = stackalloc byte[256];
        // SAFETY: the buffer is larger than struct stat; stat writes at most that.
        return Stat(path, buffer) == 0 ? IdentityAt(buffer) : null;
    }

    public static unsafe FileIdentity? FstatIdentity(int fd)
    {
        byte* buffer = stackalloc byte[256];
        // SAFETY: as above.
        return Fstat(fd, buffer) == 0 ? IdentityAt(buffer) : null;
    }

    // st_dev at 0, st_ino at 8, st_nlink at 16 and st_mode at 24 on x86-64.
    private static unsafe FileIdentity IdentityAt(byte* stat) =>
        new(*(ulong*)stat, *(ulong*)(stat + 8), *(ulong*)(stat + 16), *(uint*)(stat + 24));

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Stat(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static unsafe partial int Fstat(int fd, byte* buffer);
}
