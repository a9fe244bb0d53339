using System.Globalization;
using Platform.Engine.Machine;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Supervisor;

/// <summary>Turns a stored VM definition into platform-vmm's arguments; every gap becomes a reason the user can act on.</summary>
public static class VmmCommandLine
{
    /// <param name="vm">The definition with its images, disks and NICs loaded.</param>
    /// <param name="pathOf">Where the image library keeps an image's file.</param>
    /// <param name="runtimeDirectory">The VM's runtime folder.</param>
    /// <param name="linkedCloneOf">The overlay file of a linked-clone disk (made on first use); null: such disks are refused.</param>
    public static IReadOnlyList<string> Build(VirtualMachine vm, Func<ImageFile, string> pathOf, string runtimeDirectory,
        Func<VmDisk, string>? linkedCloneOf = null)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(pathOf);
        var args = new List<string>();
        bool diskBoot = vm.BootMode == BootMode.Disk;
        if (diskBoot)
        {
            // platform-vmm reads the first disk's boot configuration (BLS, extlinux, grub.cfg, Debian's /vmlinuz) at
            // every boot; a disk with nothing bootable fails the start with the VMM's reason in its log.
            if (vm.Disks.Count == 0)
            {
                throw new VmRuntimeException("The VM boots from its first disk but has no disk: edit it and add one.");
            }

            args.AddRange(["--boot", "disk"]);
        }
        else
        {
            string kernel = RequireFile(vm.KernelImage is { } k ? pathOf(k) : vm.KernelPath, "kernel")
                ?? throw new VmRuntimeException("The VM has no kernel: edit it and choose a kernel image or path.");
            args.AddRange(["--kernel", kernel]);
        }

        args.AddRange(
        [
            "--memory", vm.MemoryMiB.ToString(CultureInfo.InvariantCulture) + "M",
            "--cpus", vm.VcpuCount.ToString(CultureInfo.InvariantCulture),
            "--on-reboot", vm.OnReboot == RebootPolicy.Restart ? "restart" : "exit",
            "--serial", "socket",
            "--display", vm.DisplayEnabled ? "std" : "none",
            "--runtime-dir", runtimeDirectory,
        ]);
        if (vm.DisplayEnabled)
        {
            // Always said, even for virtio (platform-vmm's default): the VM's setting, not the VMM's default, decides.
            args.AddRange(["--input", vm.Input == InputKind.Ps2 ? "ps2" : "virtio"]);
        }

        if (!diskBoot && RequireFile(vm.InitrdImage is { } i ? pathOf(i) : vm.InitrdPath, "initrd") is { } initrd)
        {
            args.AddRange(["--initrd", initrd]);
        }

        // A kernel boot's command line is the whole of it; a disk boot's is added to the one the disk's boot
        // configuration gives, after console=ttyS0 when there is no display (the serial console is then the only one,
        // and the disk's command line may name only tty0).
        string append = string.Join(' ', new[] { diskBoot && !vm.DisplayEnabled ? "console=ttyS0" : null, vm.CommandLine?.Trim() }
            .Where(part => !string.IsNullOrEmpty(part)));
        if (append.Length > 0)
        {
            args.AddRange(["--append", append]);
        }

        foreach (var disk in vm.Disks.OrderBy(d => d.Position))
        {
            string? path;
            string? format = null;
            if (disk.LinkedClone && disk.Image is { } baseImage)
            {
                RequireFile(pathOf(baseImage), "disk");
                path = LinkedClone(disk, linkedCloneOf);
                format = "qcow2";
            }
            else
            {
                path = RequireFile(disk.Image is { } image ? pathOf(image) : disk.Path, "disk");
                // Library images have a known format, so the VMM never has to guess; host files are detected by the VMM.
                format = disk.Image?.Format is { } known ? ImageLibraryFormat(known) : null;
            }

            if (path is null)
            {
                throw new VmRuntimeException($"Disk {disk.Position + 1} has neither an image nor a path.");
            }

            string option = path;
            if (path.Contains(',', StringComparison.Ordinal))
            {
                throw new VmRuntimeException($"The disk path {path} contains a comma, which the VMM's --disk option cannot take.");
            }

            if (disk.ReadOnly)
            {
                option += ",ro";
            }

            if (disk.Cache == DiskCacheMode.None)
            {
                option += ",cache=none";
            }

            if (format is not null)
            {
                option += $",format={format}";
            }

            args.AddRange(["--disk", option]);
        }

        foreach (var nic in vm.Nics.OrderBy(n => n.Position))
        {
            args.AddRange(["--net", $"tap={nic.TapName},mac={nic.MacAddress}"]);
        }

        return args;
    }

    private static string ImageLibraryFormat(ImageFormat format) => Images.ImageLibrary.FormatName(format);

    private static string LinkedClone(VmDisk disk, Func<VmDisk, string>? linkedCloneOf)
    {
        if (linkedCloneOf is null)
        {
            throw new VmRuntimeException($"Disk {disk.Position + 1} is a linked clone, which this start cannot make.");
        }

        try
        {
            return linkedCloneOf(disk);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new VmRuntimeException($"Disk {disk.Position + 1}: the linked clone could not be made: {ex.Message}", ex);
        }
    }

    private static string? RequireFile(string? path, string what)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        return File.Exists(path)
            ? path
            : throw new VmRuntimeException($"The {what} file {path} does not exist (moved or deleted?): edit the VM or restore the file.");
    }
}
