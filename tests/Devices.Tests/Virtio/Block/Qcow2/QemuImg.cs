using System.Diagnostics;
using System.Text.Json;

namespace Platform.Devices.Tests.Virtio.Block.Qcow2;

/// <summary>
/// qemu-img and qemu-io (Debian's qemu-utils) as the reference implementation: they write images for us to read and
/// check the images we write. `./platform test` installs them.
/// </summary>
internal static class QemuImg
{
    public static (int ExitCode, string Output) Run(string program, params string[] args)
    {
        var (code, stdout, stderr) = RunSplit(program, args);
        return (code, stdout + stderr);
    }

    private static (int ExitCode, string Stdout, string Stderr) RunSplit(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"{program} did not start: install Debian's qemu-utils (./platform setup does).");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.GetAwaiter().GetResult());
    }

    /// <summary>Runs qemu-img; a non-zero exit fails the test with its output.</summary>
    public static string Img(params string[] args)
    {
        var (code, output) = Run("qemu-img", args);
        code.Should().Be(0, $"qemu-img {string.Join(' ', args)} said: {output}");
        return output;
    }

    /// <summary>Runs qemu-io commands (-c each) on an image (format given, so nothing is probed).</summary>
    public static void Io(string image, string format, params string[] commands)
    {
        var args = new List<string> { "-f", format };
        foreach (string command in commands)
        {
            args.Add("-c");
            args.Add(command);
        }

        args.Add(image);
        var (code, output) = Run("qemu-io", [.. args]);
        code.Should().Be(0, $"qemu-io said: {output}");
        output.Should().NotContain("failed", $"qemu-io said: {output}");
    }

    public static void Create(string path, string size, string options = "", string? backing = null, string? backingFormat = null)
    {
        var args = new List<string> { "create", "-q", "-f", "qcow2" };
        if (options.Length > 0)
        {
            args.Add("-o");
            args.Add(options);
        }

        if (backing is not null)
        {
            args.AddRange(["-b", backing, "-F", backingFormat ?? "raw"]);
        }

        args.Add(path);
        args.Add(size);
        Img([.. args]);
    }

    /// <summary>The image's guest contents, as qemu-img converts them to raw.</summary>
    public static byte[] ContentsAsRaw(string image, string format = "qcow2")
    {
        string raw = image + ".contents.raw";
        try
        {
            Img("convert", "-f", format, "-O", "raw", image, raw);
            return File.ReadAllBytes(raw);
        }
        finally
        {
            File.Delete(raw);
        }
    }

    /// <summary>qemu-img check's verdict: corruptions and leaks (exit 0 clean, 3 leaks only, 2 corruptions).</summary>
    public static (int ExitCode, long Corruptions, long Leaks, string Output) Check(string image)
    {
        var (code, stdout, stderr) = RunSplit("qemu-img", "check", "--output=json", "-f", "qcow2", image);
        string output = stdout + stderr;
        long corruptions = -1, leaks = -1;
        int brace = stdout.IndexOf('{', StringComparison.Ordinal);
        if (brace >= 0)
        {
            try
            {
                using var json = JsonDocument.Parse(stdout[brace..]);
                corruptions = json.RootElement.TryGetProperty("corruptions", out var c) ? c.GetInt64() : 0;
                leaks = json.RootElement.TryGetProperty("leaks", out var l) ? l.GetInt64() : 0;
            }
            catch (JsonException)
            {
            }
        }

        return (code, corruptions, leaks, output);
    }

    /// <summary>Asserts qemu-img finds no corruption and no leak.</summary>
    public static void CheckClean(string image)
    {
        var (code, corruptions, leaks, output) = Check(image);
        code.Should().Be(0, $"qemu-img check found problems: {output}");
        corruptions.Should().Be(0);
        leaks.Should().Be(0);
    }
}

/// <summary>A temporary folder for a test's images, removed afterwards.</summary>
internal sealed class ImageFolder : IDisposable
{
    public ImageFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"qcow2-{Guid.NewGuid():N}");

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
