using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Platform.Contracts.Config;

namespace Platform.Web.Services.Supervisor;

/// <summary>Starting a platform-vmm so that it outlives the dashboard, and telling whether one is alive.</summary>
internal static class VmmProcess
{
    public const string LogFileName = "vmm.log";
    private const long MaxLogBytes = 1 << 20;

    /// <summary>How much of vmm.log's end a tail reads: lines enough, whatever the log's size.</summary>
    private const int LogTailBytes = 64 << 10;

    /// <summary>A pid and a newline; anything longer is not a pid file.</summary>
    private const int MaxPidFileBytes = 32;

    /// <summary>
    /// Starts the VMM in its own session (so Ctrl-C on the dashboard's terminal or the end of its process group does not
    /// reach it), with stdin from /dev/null and stdout/stderr appended to <paramref name="log"/> (vmm.log, opened by
    /// <see cref="OpenLog"/>) — a file, not a pipe, so the VMM never blocks or dies on a dashboard that is gone. The shell
    /// opens the log as <c>/proc/DASHBOARD/fd/N</c>, the very file the dashboard holds open, never by its name in the
    /// VM-owned folder (where a jailed VMM could have made vmm.log a link to a host file); the caller keeps
    /// <paramref name="log"/> open until the VMM runs. `sh` and `setsid` exec in place, so the returned process is the
    /// VMM itself. Before the exec the shell writes its pid to each of <paramref name="cgroupProcsFiles"/>, so the VMM is
    /// in its cgroup (its limits) before its first instruction; a write that fails ends the start with exit code 70 and
    /// the reason in vmm.log. <paramref name="environment"/> is added to the dashboard's own
    /// (<see cref="SupervisorOptions.VmmEnvironment"/>).
    /// </summary>
    public static Process Start(string vmmPath, IReadOnlyList<string> arguments, SafeFileHandle log, IReadOnlyList<string>? cgroupProcsFiles = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        string logPath = string.Create(CultureInfo.InvariantCulture, $"/proc/{Environment.ProcessId}/fd/{log.DangerousGetHandle()}");
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("""
            exec </dev/null >>"$PLATFORM_VMM_LOG" 2>&1
            IFS=:
            for f in $PLATFORM_VMM_CGROUPS; do echo $$ >"$f" || { echo "platform: could not join the VM's cgroup ($f)"; exit 70; }; done
            unset IFS
            exec setsid "$0" "$@"
            """);
        start.ArgumentList.Add(vmmPath);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        start.Environment["PLATFORM_VMM_LOG"] = logPath;
        start.Environment["PLATFORM_VMM_CGROUPS"] = string.Join(':', cgroupProcsFiles ?? []);
        return Process.Start(start) ?? throw new InvalidOperationException("The VMM process did not start.");
    }

    /// <summary>The last lines the VMM wrote to its log: why it failed to start, in its own words.</summary>
    public static string LogTail(string runtimeDirectory, int maxLines = 5)
    {
        var lines = LogTailLines(runtimeDirectory, maxLines);
        return lines is null ? "it left no log" : lines.Count == 0 ? "it printed nothing" : string.Join(" ", lines);
    }

    /// <summary>The last non-blank lines of the folder's vmm.log; null when there is no log to read (or it is refused).</summary>
    public static IReadOnlyList<string>? LogTailLines(string runtimeDirectory, int maxLines = 5)
    {
        try
        {
            using var folder = RuntimeFolder.Open(runtimeDirectory);
            if (folder?.Read(LogFileName, LogTailBytes) is not { } bytes)
            {
                return null;
            }

            return Encoding.UTF8.GetString(bytes).Split('\n').Where(l => !string.IsNullOrWhiteSpace(l)).TakeLast(maxLines).ToArray();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Opens vmm.log to append to, through the folder's descriptor (<see cref="RuntimeFolder.OpenForAppend"/>); a log past 1 MiB starts again.</summary>
    public static SafeFileHandle OpenLog(RuntimeFolder folder) => folder.OpenForAppend(LogFileName, MaxLogBytes);

    /// <summary>
    /// The pid in the folder's vmm.pid, if it names a live process. The jailed VMM writes the file as the VM's uid, so it
    /// may be the folder owner's; a link, a FIFO or anything else is refused (<see cref="RuntimeFolder.Read"/>).
    /// </summary>
    public static int? ReadLivePid(string runtimeDirectory)
    {
        try
        {
            using var folder = RuntimeFolder.Open(runtimeDirectory);
            if (folder?.Read(ControlProtocol.PidFileName, MaxPidFileBytes, vmMayWrite: true) is not { } bytes)
            {
                return null;
            }

            string text = Encoding.ASCII.GetString(bytes).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && IsAlive(pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// True when <paramref name="pid"/> is the VMM this dashboard started for <paramref name="runtimeDirectory"/>:
    /// a process whose command line is <c>… --config FOLDER/vm.json …</c>. vmm.pid lies in a folder the jailed VMM may
    /// write, so a compromised one could name any process there, and the dashboard ends the process it names (as
    /// root): a pid is trusted only when its command line says it runs this VM.
    /// </summary>
    public static bool IsVmmOf(int pid, string runtimeDirectory)
    {
        try
        {
            string[] arguments = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            string config = Path.GetFullPath(Path.Combine(runtimeDirectory, VmConfigFile.FileName));
            int at = Array.IndexOf(arguments, "--config");
            return at >= 0 && at + 1 < arguments.Length && string.Equals(Path.GetFullPath(arguments[at + 1]), config, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The parent pid of <paramref name="pid"/> (from /proc), or null when it is gone.</summary>
    public static int? ParentOf(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // After the command name in parentheses: the state, then the parent pid.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 1 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int parent) ? parent : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // The state follows the command name in parentheses; Z is a zombie that only waits to be reaped.
            int close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Removes what a dead VMM left behind (pid file, sockets) through the folder's descriptor: each entry itself, never
    /// what a planted link points at. The log stays for the user to read.
    /// </summary>
    public static void RemoveStaleFiles(string runtimeDirectory)
    {
        try
        {
            using var folder = RuntimeFolder.Open(runtimeDirectory);
            if (folder is not null)
            {
                RemoveStaleFiles(folder);
            }
        }
        catch (IOException)
        {
            // Not a folder any more: nothing of ours to remove.
        }
    }

    public static void RemoveStaleFiles(RuntimeFolder folder)
    {
        folder.Delete(ControlProtocol.PidFileName, RuntimeFolderNative.TypeRegular);
        folder.Delete(ControlProtocol.PidFileName + ".tmp", RuntimeFolderNative.TypeRegular);
        foreach (string socket in new[] { ControlProtocol.ControlSocketName, ControlProtocol.SerialSocketName, ControlProtocol.VncSocketName })
        {
            folder.Delete(socket, RuntimeFolderNative.TypeSocket);
        }
    }

    public static void Kill(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill();
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
