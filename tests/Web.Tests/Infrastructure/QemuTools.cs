using System.Diagnostics;
using System.Text.Json;

namespace Platform.Web.Tests.Infrastructure;

/// <summary>qemu-img and qemu-io (Debian's qemu-utils) as the reference for the disk files the dashboard makes and changes.</summary>
internal static class QemuTools
{
    public static (int ExitCode, string Output) Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start: install qemu-utils.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.GetAwaiter().GetResult());
    }

    /// <summary><c>qemu-img info --output=json</c>: format, virtual size, actual size.</summary>
    public static (string Format, long VirtualSize, long ActualSize) Info(string path)
    {
        var (code, output) = Run("qemu-img", "info", "--output=json", "-U", path);
        code.Should().Be(0, output);
        using var json = JsonDocument.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..]);
        var root = json.RootElement;
        return (root.GetProperty("format").GetString()!, root.GetProperty("virtual-size").GetInt64(), root.GetProperty("actual-size").GetInt64());
    }

    /// <summary>Asserts <c>qemu-img check</c> finds nothing wrong (exit code 0).</summary>
    public static void CheckClean(string path)
    {
        var (code, output) = Run("qemu-img", "check", "-f", "qcow2", path);
        code.Should().Be(0, $"qemu-img check finds {path} clean: {output}");
    }

    /// <summary>The snapshot names <c>qemu-img snapshot -l</c> lists.</summary>
    public static IReadOnlyList<string> SnapshotNames(string path)
    {
        var (code, output) = Run("qemu-img", "snapshot", "-l", "-U", path);
        code.Should().Be(0, output);
        // "ID  TAG  VM SIZE  DATE  VM CLOCK  ICOUNT" then one line per snapshot: ID, then the tag.
        return [.. output.Split('\n').Skip(2).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(p => p.Length > 1).Select(p => p[1])];
    }

    /// <summary>Writes <paramref name="pattern"/> over 64 KiB at <paramref name="offset"/> of a qcow2 image, as a guest would.</summary>
    public static void WritePattern(string path, long offset, byte pattern)
    {
        var (code, output) = Run("qemu-io", "-f", "qcow2", "-c", $"write -P {pattern} {offset} 64k", path);
        code.Should().Be(0, output);
        output.Should().NotContain("error", output);
    }

    /// <summary>True when the 64 KiB at <paramref name="offset"/> all hold <paramref name="pattern"/>.</summary>
    public static bool Holds(string path, long offset, byte pattern)
    {
        var (_, output) = Run("qemu-io", "-f", "qcow2", "-r", "-c", $"read -P {pattern} {offset} 64k", path);
        return !output.Contains("Pattern verification failed", StringComparison.Ordinal) && output.Contains("read 65536/65536", StringComparison.Ordinal);
    }
}
