using System.Diagnostics;
using Platform.Web.Services.Supervisor;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>Runs the NativeAOT platform-vmm (artifacts/vmm, as the dashboard does) and collects its output.</summary>
public static class VmmProcess
{
    public static string ProgramPath { get; } = Find();

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(ProgramPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"platform-vmm {string.Join(' ', args)} did not exit within {timeout.TotalSeconds} s. Output:\n{await stdout}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// The pid of the VMM that <paramref name="started"/> runs: itself when unjailed; jailed (as root, by default), the
    /// one child of its jail's keeper, which is what vmm.pid and the control socket's greeting name.
    /// </summary>
    public static int VmmPid(Process started)
    {
        try
        {
            string children = File.ReadAllText($"/proc/{started.Id}/task/{started.Id}/children").Trim();
            return children.Length > 0 && int.TryParse(children.Split(' ')[0], out int child) ? child : started.Id;
        }
        catch (IOException)
        {
            return started.Id;
        }
    }

    private static string Find()
    {
        // The NativeAOT publish users run (scripts/publish-vmm.sh, which ./platform test runs), not the JIT build: what
        // these tests prove about the process is what the dashboard launches.
        string path = Path.Combine(TestGuests.RepositoryRoot, "artifacts", "vmm", "platform-vmm");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} is missing: run scripts/publish-vmm.sh (./platform test does).");
        }

        string? newer = VmmPublishFreshness.NewerInput(TestGuests.RepositoryRoot, File.GetLastWriteTimeUtc(path));
        if (newer is not null)
        {
            throw new InvalidOperationException($"{path} is older than {newer}: run scripts/publish-vmm.sh so the tests run the code as it is.");
        }

        return path;
    }
}
