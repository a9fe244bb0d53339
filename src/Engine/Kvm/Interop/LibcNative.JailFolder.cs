using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm.Interop;

/// <summary>
/// The *at(2) calls the jail and its keeper use in the runtime folder, which the VM's uid owns: names are resolved
/// relative to a descriptor of the folder and never through a link (<see cref="Platform.Engine.Jail.JailFolder"/>).
/// </summary>
internal static partial class LibcNative
{
    public const int ONoFollow = 0x20000;
    public const int AtRemoveDir = 0x200;
    public const int ENOTDIR = 20;

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UnlinkAt(int directory, string name, int flags);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkdirAt(int directory, string name, uint mode);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    public static partial int Fchown(int fd, uint uid, uint gid);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    public static partial int Fchmod(int fd, uint mode);
}
