using Platform.Engine.Host;

namespace Platform.Engine.Vmm;

/// <summary>--serial stdio: the guest console on the VMM's stdout, and stdin typed into COM1.</summary>
internal static class SerialStdio
{
    /// <summary>Starts both directions; the returned task ends once the console is complete and stdout has it all.</summary>
    public static Task Start(VmmHost host, SerialConsoleStream console)
    {
        var stdin = new Thread(() => FeedStdin(host)) { IsBackground = true, Name = "serial-stdin" };
        stdin.Start();
        return CopyToStdoutAsync(console);
    }

    private static async Task CopyToStdoutAsync(SerialConsoleStream console)
    {
        using var stdout = Console.OpenStandardOutput();
        var reader = console.OpenReader(replayScrollback: true);
        byte[] buffer = new byte[16 * 1024];
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            await stdout.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
            await stdout.FlushAsync().ConfigureAwait(false);
        }
    }

    // A thread, not a task: reading stdin blocks, and it must not hold a thread-pool thread for the VM's life.
    private static void FeedStdin(VmmHost host)
    {
        using var stdin = Console.OpenStandardInput();
        byte[] buffer = new byte[4096];
        int read;
        while ((read = stdin.Read(buffer, 0, buffer.Length)) > 0)
        {
            var pending = buffer.AsSpan(0, read);
            while (!pending.IsEmpty)
            {
                int taken = host.SendSerialInput(pending);
                pending = pending[taken..];
                if (taken == 0)
                {
                    Thread.Sleep(5);
                }
            }
        }
    }
}
