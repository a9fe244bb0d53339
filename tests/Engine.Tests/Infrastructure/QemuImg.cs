using System.Diagnostics;
using System.Text.Json;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>qemu-img (Debian's qemu-utils) as the reference: it checks the qcow2 images the VMM wrote and reads them back.</summary>
public static class QemuImg
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        var start = new ProcessStartInfo("qemu-img") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("qemu-img did not start: install qemu-utils.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.GetAwaiter().GetResult());
    }

    /// <summary>The guest-visible contents of a qcow2 image, as qemu-img converts it to raw.</summary>
    public static byte[] ContentsAsRaw(string image)
    {
        string raw = image + ".raw";
        try
        {
            var (code, stdout, stderr) = Run("convert", "-f", "qcow2", "-O", "raw", image, raw);
            code.Should().Be(0, stdout + stderr);
            return File.ReadAllBytes(raw);
        }
        finally
        {
            File.Delete(raw);
        }
    }

    /// <summary>qemu-img check: exit code (0 clean, 3 leaks only, 2 corruption), corruptions and leaks.</summary>
    public static (int ExitCode, long Corruptions, long Leaks, string Output) Check(string image)
    {
        var (code, stdout, stderr) = Run("check", "--output=json", "-f", "qcow2", image);
        using var json = JsonDocument.Parse(stdout[stdout.IndexOf('{', StringComparison.Ordinal)..]);
        long Get(string name) => json.RootElement.TryGetProperty(name, out var value) ? value.GetInt64() : 0;
        return (code, Get("corruptions"), Get("leaks"), stdout + stderr);
    }
}
