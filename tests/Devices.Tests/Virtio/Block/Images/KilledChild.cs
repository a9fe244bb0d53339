using System.Diagnostics;
using System.Runtime.CompilerServices;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Images;
using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Devices.Tests.Virtio.Block.Images;

/// <summary>
/// A child process that does one disk-image operation and stops in the middle of it, to be killed with SIGKILL there:
/// the test assembly started again with <see cref="Variable"/> set, which this module initializer reads before the
/// test platform starts. It prints <see cref="PausedLine"/> when it has stopped, and never returns from the pause.
/// </summary>
internal static class KilledChild
{
    public const string Variable = "PLATFORM_TEST_DISK_CHILD";
    public const string PausedLine = "paused";

    /// <summary>Starts the child: <c>create PATH BYTES PAUSE_AFTER_BYTES</c> or <c>snapshot PATH NAME PAUSE_AT_WRITE</c>.</summary>
    public static Process Start(params string[] job)
    {
        string host = Environment.ProcessPath!;
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(KilledChild).Assembly.Location);
        }

        start.Environment[Variable] = string.Join('\u001f', job);
        return Process.Start(start) ?? throw new InvalidOperationException("the child did not start");
    }

    /// <summary>Waits for the child to pause, then kills it with SIGKILL; false when it ended first (the operation was shorter).</summary>
    public static bool KillWhenPaused(Process child, TimeSpan timeout)
    {
        var line = child.StandardOutput.ReadLineAsync();
        if (!line.Wait(timeout) || line.Result != PausedLine)
        {
            child.WaitForExit(timeout);
            if (!child.HasExited)
            {
                child.Kill();
            }

            child.HasExited.Should().BeTrue();
            child.ExitCode.Should().Be(0, $"the child failed: {child.StandardError.ReadToEnd()}");
            return false;
        }

        child.Kill(); // SIGKILL: no finally block, no flush, no dispose runs in the child
        child.WaitForExit();
        return true;
    }

#pragma warning disable CA2255 // the test assembly is an executable: this is its second entry point, for the child only
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RunIfChild()
    {
        string? job = Environment.GetEnvironmentVariable(Variable);
        if (job is null)
        {
            return;
        }

        try
        {
            string[] args = job.Split('\u001f');
            switch (args[0])
            {
                case "create":
                    long pauseAt = long.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
                    DiskImageCreator.Create(args[1], long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), DiskImageFormat.Qcow2,
                        Preallocation.Full, new PauseAt(bytes => bytes >= pauseAt), CancellationToken.None);
                    break;
                case "snapshot":
                    long pauseAtWrite = long.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
                    using (var disk = Qcow2BlockBackend.Open(File.OpenHandle(args[1], FileMode.Open, FileAccess.ReadWrite, FileShare.None), args[1], new Qcow2OpenOptions()))
                    {
                        long writes = 0;
                        disk.File.BeforeWrite = () =>
                        {
                            if (++writes == pauseAtWrite)
                            {
                                Pause();
                            }
                        };
                        disk.CreateSnapshot(args[2], DateTimeOffset.UtcNow);
                    }

                    break;
                default:
                    throw new ArgumentException($"unknown job {args[0]}");
            }

            Environment.Exit(0);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine(ex);
            Environment.Exit(1);
        }
    }

    private static void Pause()
    {
        Console.Out.WriteLine(PausedLine);
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
    }

    private sealed class PauseAt(Func<long, bool> when) : IProgress<long>
    {
        public void Report(long value)
        {
            if (when(value))
            {
                Pause();
            }
        }
    }
}
