using System.Diagnostics;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>
/// QEMU's pc machine (Debian's qemu-system-x86) as the reference for firmware boots: the same SeaBIOS, a disk on
/// virtio-blk (modern only, as ours), no display so SeaBIOS's screen goes to COM1 (-nographic), COM1 on stdout.
/// </summary>
public static class QemuPc
{
    public const string Program = "qemu-system-x86_64";

    /// <summary>Boots <paramref name="image"/> (read-only) through SeaBIOS until the guest resets (-no-reboot ends QEMU).</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> BootDiskAsync(string image, int memoryMiB, TimeSpan timeout) =>
        RunAsync(image, memoryMiB, timeout,
            ["-drive", $"if=none,id=d0,file={image},format=raw,readonly=on", "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]);

    /// <summary>Boots the ISO image <paramref name="iso"/> from an ATAPI CD-ROM on QEMU's ICH9 AHCI (as ours), -no-reboot.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> BootCdromAsync(string iso, int memoryMiB, TimeSpan timeout) =>
        RunAsync(iso, memoryMiB, timeout,
            ["-device", "ahci,id=ahci", "-drive", $"if=none,id=cd,media=cdrom,file={iso},format=raw,readonly=on", "-device", "ide-cd,drive=cd,bus=ahci.0"]);

    /// <summary>
    /// Boots <paramref name="image"/> from a SATA disk on QEMU's ICH9 AHCI port 0 (as ours), -no-reboot. ide-hd refuses a
    /// read-only drive, so writes go to a throw-away overlay (snapshot=on) and the image stays as it was.
    /// </summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> BootSataDiskAsync(string image, int memoryMiB, TimeSpan timeout) =>
        RunAsync(image, memoryMiB, timeout,
            ["-device", "ahci,id=ahci", "-drive", $"if=none,id=d0,file={image},format=raw,snapshot=on", "-device", "ide-hd,drive=d0,bus=ahci.0"]);

    /// <summary>
    /// Boots the test guest <paramref name="elf"/> (a PVH kernel) with <paramref name="append"/> and a writable raw SATA
    /// disk <paramref name="image"/> on QEMU's ICH9 AHCI port 0, -no-reboot: the same guest and disk as ours.
    /// </summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunGuestWithSataDiskAsync(string elf, string append, string image, int memoryMiB, TimeSpan timeout) =>
        RunAsync(elf, memoryMiB, timeout,
            ["-kernel", elf, "-append", append,
             "-device", "ahci,id=ahci", "-drive", $"if=none,id=d0,file={image},format=raw", "-device", "ide-hd,drive=d0,bus=ahci.0"]);

    /// <summary>Boots the test guest <paramref name="elf"/> (a PVH kernel) with <paramref name="append"/> and no devices, -no-reboot.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunGuestAsync(string elf, string append, int memoryMiB, int cpus, TimeSpan timeout) =>
        RunAsync(elf, memoryMiB, timeout, ["-smp", cpus.ToString(System.Globalization.CultureInfo.InvariantCulture), "-kernel", elf, "-append", append]);

    /// <summary>
    /// Boots a Linux-style <paramref name="bzImage"/> the way QEMU boots a kernel (-kernel, -initrd, -append: its loader
    /// fills the setup header and SeaBIOS's linuxboot option ROM enters the real-mode setup code), -no-reboot.
    /// </summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> BootKernelAsync(string bzImage, string initrd, string append, int memoryMiB, TimeSpan timeout) =>
        RunAsync(bzImage, memoryMiB, timeout, ["-kernel", bzImage, "-initrd", initrd, "-append", append]);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string image, int memoryMiB, TimeSpan timeout, string[] devices)
    {
        var start = new ProcessStartInfo(Program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string arg in (string[])["-M", "pc", "-accel", "kvm", "-m", memoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-bios", VmConfig.DebianSeaBios, "-nographic", "-nodefaults", "-serial", "stdio", "-monitor", "none", "-no-reboot", .. devices])
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{Program} did not start ({ex.Message}): install qemu-system-x86 (./platform test does).", ex);
        }

        using (process)
        {
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
                throw new TimeoutException($"QEMU did not finish booting {image} within {timeout.TotalSeconds} s. Output:\n{await stdout}");
            }

            return (process.ExitCode, await stdout, await stderr);
        }
    }
}
