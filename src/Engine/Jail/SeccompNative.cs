using System.Runtime.InteropServices;

namespace Platform.Engine.Jail;

/// <summary>
/// libseccomp (Debian's libseccomp2), which turns syscall names and rules into the BPF program the kernel runs: we
/// write lists, not BPF. Loaded by name at its first call, which <see cref="SeccompFilter"/> makes before the jail's
/// pivot_root hides the host's /usr/lib.
/// </summary>
internal static unsafe partial class SeccompNative
{
    private const string Library = "libseccomp.so.2";

    public const uint ActKillProcess = 0x80000000;
    public const uint ActAllow = 0x7fff0000;
    public const uint ActLog = 0x7ffc0000;

    /// <summary>SCMP_ACT_ERRNO(errno): the call fails with that errno instead of running.</summary>
    public static uint ActErrno(int errno) => 0x00050000u | ((uint)errno & 0xffff);

    /// <summary>enum scmp_filter_attr.</summary>
    public const int AttrNoNewPrivs = 3;
    public const int AttrThreadSync = 4;

    /// <summary>enum scmp_compare.</summary>
    public const int CompareEqual = 4;
    public const int CompareMaskedEqual = 7;

    /// <summary>SCMP_ARCH_NATIVE.</summary>
    public const uint ArchNative = 0;

    /// <summary><c>struct scmp_arg_cmp</c>: 24 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ArgCompare
    {
        public uint Argument;
        public int Operator;
        public ulong DatumA;
        public ulong DatumB;
    }

    [LibraryImport(Library, EntryPoint = "seccomp_init")]
    public static partial nint Init(uint defaultAction);

    [LibraryImport(Library, EntryPoint = "seccomp_release")]
    public static partial void Release(nint context);

    [LibraryImport(Library, EntryPoint = "seccomp_attr_set")]
    public static partial int AttrSet(nint context, int attribute, uint value);

    [LibraryImport(Library, EntryPoint = "seccomp_rule_add_array")]
    public static partial int RuleAddArray(nint context, uint action, int syscall, uint argumentCount, ArgCompare* arguments);

    [LibraryImport(Library, EntryPoint = "seccomp_load")]
    public static partial int Load(nint context);

    /// <summary>The number of a syscall by name on this architecture; negative when it has none here.</summary>
    [LibraryImport(Library, EntryPoint = "seccomp_syscall_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ResolveName(string name);

    /// <summary>A syscall's name (malloc'd, for <see cref="Free"/>), or null.</summary>
    [LibraryImport(Library, EntryPoint = "seccomp_syscall_resolve_num_arch")]
    public static partial byte* ResolveNumber(uint arch, int number);

    [LibraryImport("libc", EntryPoint = "free")]
    public static partial void Free(void* pointer);

    /// <summary>"ptrace" for 101; "syscall 999" when libseccomp has no name for it.</summary>
    public static string NameOf(int number)
    {
        byte* name = ResolveNumber(ArchNative, number);
        if (name is null)
        {
            return $"syscall {number}";
        }

        try
        {
            return Marshal.PtrToStringUTF8((nint)name) ?? $"syscall {number}";
        }
        finally
        {
            Free(name);
        }
    }
}
