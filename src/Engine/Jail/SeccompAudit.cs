using System.Globalization;
using System.Text;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Jail;

/// <summary>
/// Finds why seccomp killed a process: the kernel logs each SECCOMP_RET_KILL_PROCESS as an audit record
/// (<c>audit: type=1326 … pid=N … sig=31 arch=c000003e syscall=101 …</c>), readable in /dev/kmsg by root.
/// </summary>
internal static class SeccompAudit
{
    private const int ONonBlock = 0x800;

    /// <summary>"ptrace (syscall 101)", or why the syscall is unknown.</summary>
    public static string Describe(int pid)
    {
        // The kernel's audit thread prints the record a moment after the kill, so it may not be there yet.
        int? number = null;
        for (int attempt = 0; attempt < 40 && number is null; attempt++)
        {
            number = FindSyscall(pid);
            if (number is null)
            {
                Thread.Sleep(25);
            }
        }

        return number is { } n
            ? $"it called {SeccompNative.NameOf(n)} (syscall {n}), which its allowlist does not have"
            : "the kernel's audit log names no syscall for it (see dmesg: audit type=1326)";
    }

    /// <summary>The syscall number in the last seccomp audit record for <paramref name="pid"/>.</summary>
    public static unsafe int? FindSyscall(int pid)
    {
        int fd = LibcNative.OpenRaw("/dev/kmsg", ONonBlock);
        if (fd < 0)
        {
            return null;
        }

        int? found = null;
        string pidField = string.Create(CultureInfo.InvariantCulture, $" pid={pid} ");
        byte[] buffer = new byte[8192];
        try
        {
            while (true)
            {
                nint read;
                fixed (byte* p = buffer)
                {
                    // SAFETY: buffer is pinned; each read of /dev/kmsg returns one record of at most its length.
                    read = LibcNative.ReadNumber(fd, p, (nuint)buffer.Length);
                }

                if (read < 0)
                {
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 32 /* EPIPE: overwritten record */)
                    {
                        continue;
                    }

                    break; // EAGAIN: the end
                }

                string record = Encoding.UTF8.GetString(buffer, 0, (int)read);
                if (!record.Contains("type=1326", StringComparison.Ordinal) || !record.Contains(pidField, StringComparison.Ordinal))
                {
                    continue;
                }

                int at = record.IndexOf(" syscall=", StringComparison.Ordinal);
                if (at >= 0)
                {
                    string digits = new([.. record[(at + 9)..].TakeWhile(char.IsAsciiDigit)]);
                    if (int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int number))
                    {
                        found = number;
                    }
                }
            }
        }
        finally
        {
            LibcNative.Close(fd);
        }

        return found;
    }
}
