using System.Diagnostics;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>Runs the platform-vmm program built beside the tests (same configuration) and collects its output.</summary>
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

    private static string Find()
    {
        // tests/Engine.Tests/bin/<Configuration>/net10.0 → src/Engine/Vmm/bin/<Configuration>/net10.0/platform-vmm
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string configuration = testBin.Parent!.Name;
        string path = Path.Combine(TestGuests.RepositoryRoot, "src", "Engine", "Vmm", "bin", configuration, testBin.Name, "platform-vmm");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{path} is missing: build the solution (dotnet build Platform.sln -c {configuration}).");
    }
}
