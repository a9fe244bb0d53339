using System.Runtime.InteropServices;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// The *at(2) calls behind <see cref="RuntimeFolder"/>: every name is resolved relative to a descriptor of the folder,
/// with O_NOFOLLOW, so a name the jailed VM planted can never lead the dashboard (root) out of the folder. x86-64
/// Linux only (the dashboard's one platform): its flag values and its 144-byte <c>struct stat</c>.
/// </summary>
internal static class RuntimeFolderNative
{
    public const int ReadOnly = 0;
    public const int WriteOnly = 1;
    public const int Create = 0x40;
    public const int Exclusive = 0x80;
    public const int NoControllingTerminal = 0x100;
    public const int Append = 0x400;
    public const int NonBlocking = 0x800;
    public const int OnlyDirectory = 0x10000;
    public const int NoFollow = 0x20000;
    public const int CloseOnExec = 0x80000;
    public const int PathOnly = 0x200000;
    public const int SymlinkNoFollow = 0x100;
    public const int RemoveDirectory = 0x200;
    public const int CurrentDirectory = -100;

    public const uint TypeMask = 0xF000;
    public const uint TypeRegular = 0x8000;
    public const uint TypeDirectory = 0x4000;
    public const uint TypeSymlink = 0xA000;
    public const uint TypeSocket = 0xC000;
    public const uint TypeFifo = 0x1000;
    public const uint TypeBlockDevice = 0x6000;

    private const int StatSize = 144;
    private const int DeviceOffset = 0;
    private const int InodeOffset = 8;
    private const int NlinkOffset = 16;
    private const int ModeOffset = 24;
    private const int UidOffset = 28;
    private const int GidOffset = 32;
    private const int SizeOffset = 48;

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code, which only the engine may have; a byte[] is blittable.
    [DllImport("libc", EntryPoint = "openat", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    public static extern int OpenAt(int directory, string name, int flags, int mode);

    [DllImport("libc", EntryPoint = "unlinkat", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    public static extern int UnlinkAt(int directory, string name, int flags);

    [DllImport("libc", EntryPoint = "renameat", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    public static extern int RenameAt(int fromDirectory, string from, int toDirectory, string to);

    [DllImport("libc", EntryPoint = "fstatat", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int FstatAt(int directory, string name, [Out] byte[] buffer, int flags);

    [DllImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static extern int Fstat(int fd, [Out] byte[] buffer);

    [DllImport("libc", EntryPoint = "fchown", SetLastError = true)]
    public static extern int Fchown(int fd, uint uid, uint gid);

    [DllImport("libc", EntryPoint = "geteuid")]
    public static extern uint GetEuid();
#pragma warning restore SYSLIB1054

    /// <summary>What fstat(2) says of an open descriptor; null (errno set) when it fails.</summary>
    public static FileFacts? Facts(int fd)
    {
        byte[] buffer = new byte[StatSize];
        return Fstat(fd, buffer) == 0 ? FileFacts.From(buffer) : null;
    }

    /// <summary>What fstatat(2) says of <paramref name="name"/> itself (a link is not followed); null when it fails.</summary>
    public static FileFacts? FactsOf(int directory, string name)
    {
        byte[] buffer = new byte[StatSize];
        return FstatAt(directory, name, buffer, SymlinkNoFollow) == 0 ? FileFacts.From(buffer) : null;
    }

    public static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>The fields of <c>struct stat</c> the checks need.</summary>
    public readonly record struct FileFacts(uint Mode, uint Uid, ulong Links, long Size, uint Gid = 0, ulong Device = 0, ulong Inode = 0)
    {
        public uint Type => Mode & TypeMask;

        public static FileFacts From(byte[] buffer) => new(
            BitConverter.ToUInt32(buffer, ModeOffset), BitConverter.ToUInt32(buffer, UidOffset),
            BitConverter.ToUInt64(buffer, NlinkOffset), BitConverter.ToInt64(buffer, SizeOffset),
            BitConverter.ToUInt32(buffer, GidOffset), BitConverter.ToUInt64(buffer, DeviceOffset), BitConverter.ToUInt64(buffer, InodeOffset));

        /// <summary>"a symbolic link", "a FIFO"…: what a refusal says the entry was.</summary>
        public string Kind => Type switch
        {
            TypeRegular => "a regular file",
            TypeDirectory => "a folder",
            TypeSymlink => "a symbolic link",
            TypeSocket => "a socket",
            TypeFifo => "a FIFO",
            TypeBlockDevice => "a block device",
            _ => "a device or other special file",
        };
    }
}
