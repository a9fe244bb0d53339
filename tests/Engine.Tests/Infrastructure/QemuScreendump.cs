using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>
/// QEMU's pc machine with its std-vga (<c>-device VGA</c>, the same vgabios-stdvga through SeaBIOS) booting a disk
/// image, and the picture QEMU shows once the guest has printed a line: its monitor's <c>screendump</c>, a binary PPM.
/// The reference for comparing our legacy VGA picture with QEMU's.
/// </summary>
public static class QemuScreendump
{
    /// <summary>A PPM picture: Width × Height pixels as 0x00RRGGBB.</summary>
    public sealed record Picture(int Width, int Height, uint[] Pixels)
    {
        public uint this[int x, int y] => Pixels[(y * Width) + x];
    }

    /// <summary>
    /// Boots <paramref name="image"/> (read-only, virtio-blk) until COM1 shows <paramref name="marker"/>, then takes a
    /// screendump and quits QEMU. Returns what COM1 printed and the picture.
    /// </summary>
    public static async Task<(string Serial, Picture Screen)> BootAndCaptureAsync(string image, string marker, TimeSpan timeout)
    {
        string folder = Directory.CreateTempSubdirectory("qemu-screendump-").FullName;
        string monitor = Path.Combine(folder, "monitor.sock"), dump = Path.Combine(folder, "screen.ppm");
        var start = new ProcessStartInfo(QemuPc.Program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string arg in (string[])["-M", "pc", "-accel", "kvm", "-m", "128", "-bios", VmConfig.DebianSeaBios, "-nodefaults",
            "-device", "VGA", "-display", "none", "-serial", "stdio", "-monitor", $"unix:{monitor},server=on,wait=off", "-no-reboot",
            "-drive", $"if=none,id=d0,file={image},format=raw,readonly=on", "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{QemuPc.Program} did not start");
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var serial = new StringBuilder();
            _ = process.StandardError.ReadToEndAsync(cts.Token);
            while (!serial.ToString().Contains(marker, StringComparison.Ordinal))
            {
                string? line = await process.StandardOutput.ReadLineAsync(cts.Token)
                    ?? throw new InvalidOperationException($"QEMU ended before printing '{marker}'. COM1:\n{serial}");
                serial.Append(line.TrimEnd('\r')).Append('\n');
            }

            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(monitor), cts.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"screendump {dump}\n"), cts.Token);
            Picture? picture;
            while ((picture = TryRead(dump)) is null)
            {
                await Task.Delay(50, cts.Token); // the screendump is written while the monitor goes on
            }

            await socket.SendAsync("quit\n"u8.ToArray(), cts.Token);
            await process.WaitForExitAsync(cts.Token);
            return (serial.ToString(), picture);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"QEMU did not boot {image} to '{marker}' and dump its screen within {timeout.TotalSeconds} s");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The binary PPM (P6, maxval 255) at <paramref name="path"/>, or null while it is missing or incomplete.</summary>
    public static Picture? TryRead(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (IOException)
        {
            return null;
        }

        // Header: "P6", width, height, maxval, each after whitespace, then one whitespace byte and the pixels.
        int at = 0;
        string[] fields = new string[4];
        for (int i = 0; i < 4; i++)
        {
            while (at < data.Length && char.IsWhiteSpace((char)data[at]))
            {
                at++;
            }

            int begin = at;
            while (at < data.Length && !char.IsWhiteSpace((char)data[at]))
            {
                at++;
            }

            fields[i] = Encoding.ASCII.GetString(data, begin, at - begin);
        }

        if (fields[0] != "P6" || !int.TryParse(fields[1], out int width) || !int.TryParse(fields[2], out int height) || fields[3] != "255")
        {
            return null;
        }

        at++;
        if (width <= 0 || height <= 0 || data.Length - at < width * height * 3)
        {
            return null;
        }

        uint[] pixels = new uint[width * height];
        for (int i = 0; i < pixels.Length; i++, at += 3)
        {
            pixels[i] = ((uint)data[at] << 16) | ((uint)data[at + 1] << 8) | data[at + 2];
        }

        return new Picture(width, height, pixels);
    }
}
