namespace Platform.Engine.Jail;

/// <summary>
/// What a jailed VMM may call (docs/architecture.md, "Confinement", lists them with the reasons, and why one list
/// serves every thread: .NET thread-pool threads inherit the filter of whichever thread made them).
/// Built from what runs: strace -f of the VMM under each test guest, then the filter in log mode
/// (<c>PLATFORM_VMM_SECCOMP=log</c>) over the process-level test classes, reading the kernel's audit lines.
/// </summary>
internal static class SyscallLists
{
    /// <summary>
    /// Every thread: the .NET runtime (memory, futexes, signals, threads, timers), file and socket I/O on descriptors
    /// opened before the jail, and the opens a reboot needs (disks, kernel, initrd, firmware, bind-mounted where they
    /// are). No socket, bind, connect or listen: the VMM only accepts on sockets it bound before the jail.
    /// </summary>
    public static readonly string[] Process =
    [
        // memory
        "mmap", "munmap", "mprotect", "madvise", "mremap", "brk", "membarrier", "get_mempolicy", "mincore",
        // threads, futexes, scheduling, time
        "futex", "set_robust_list", "get_robust_list", "rseq", "sched_yield", "sched_getaffinity", "sched_getparam",
        "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min", "sched_setaffinity",
        "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday",
        "exit", "exit_group", "restart_syscall", "gettid", "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid",
        "getresuid", "getresgid", "getgroups",
        "getrusage", "getrlimit", "prlimit64", "sysinfo", "uname", "getrandom",
        // signals: the vCPU kick, SIGTERM, the runtime's own
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack", "tgkill", "tkill",
        // descriptors
        "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2", "lseek",
        "close", "fcntl", "ioctl", "dup", "dup3", "fsync", "fdatasync", "fallocate", "ftruncate", "flock", "fadvise64",
        "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd2", "pipe2", "poll", "ppoll",
        // files (inside the jail's root only)
        "openat", "open", "newfstatat", "fstat", "stat", "lstat", "statx", "fstatfs", "statfs", "access", "faccessat",
        "faccessat2", "readlink", "readlinkat", "getdents64", "getcwd", "unlink", "unlinkat", "rename", "renameat",
        "renameat2",
        // sockets bound before the jail: control.sock, serial.sock, vnc.sock, a VNC TCP port, passt's socket pair
        "accept", "accept4", "recvfrom", "recvmsg", "sendto", "sendmsg", "shutdown", "getsockopt", "setsockopt",
        "getsockname", "getpeername",
        // passt supervision: ending and reaping the passt started before the jail
        "kill", "wait4", "waitid",
        // a thread adding its own, narrower filter (it can only take away)
        "seccomp",
    ];

    /// <summary>prctl options any thread may use: thread names, and no_new_privs (set already; libseccomp sets it again).</summary>
    public static readonly int[] PrctlOptions = [15 /* PR_SET_NAME */, 16 /* PR_GET_NAME */, 38 /* PR_SET_NO_NEW_PRIVS */, 39 /* PR_GET_NO_NEW_PRIVS */];
}
