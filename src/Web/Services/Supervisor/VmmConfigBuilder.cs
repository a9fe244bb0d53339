using Platform.Web.Data;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// Turns a stored VM definition into the <see cref="VmConfig"/> platform-vmm runs (written to <c>vm.json</c> in the
/// runtime folder), with the files it names checked to exist; every gap becomes a reason the user can act on.
/// </summary>
public static class VmmConfigBuilder
{
    /// <param name="vm">The definition with its images, disks and NICs loaded.</param>
    /// <param name="pathOf">Where the image library keeps an image's file.</param>
    /// <param name="runtimeDirectory">The VM's runtime folder.</param>
    /// <param name="linkedCloneOf">The overlay file of a linked-clone disk (made on first use); null: such disks are refused.</param>
    /// <param name="ownDiskOf">The file of one of the VM's own disks; null: such disks are refused.</param>
    /// <param name="cloudInitSeedOf">
    /// The VM's cloud-init seed image, made or brought up to date (null when it has none); it goes last, read-only.
    /// Null: a VM with cloud-init is refused.
    /// </param>
    public static VmConfig Build(VirtualMachine vm, Func<ImageFile, string> pathOf, string runtimeDirectory,
        Func<VmDisk, string>? linkedCloneOf = null, Func<VmDisk, string>? ownDiskOf = null, Func<VirtualMachine, string?>? cloudInitSeedOf = null)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(pathOf);
        if (vm.IsTemplate)
        {
            // Every start comes here (the page, the API, autostart, a crash restart): a template's disks never change.
            throw new VmRuntimeException(Platform.Web.Services.Vms.VmPowerService.TemplateStartMessage(vm.Name));
        }

        bool diskBoot = vm.BootMode == BootMode.Disk;
        bool firmware = vm.BootMode == BootMode.Firmware;
        string? kernel = null, initrd = null;
        if (firmware)
        {
            // SeaBIOS boots the disks and the CD-ROM in the boot order; nothing is loaded by the VMM itself.
            if (vm.Disks.Count == 0 && !vm.HasCdrom)
            {
                throw new VmRuntimeException("The VM boots with firmware but has neither a disk nor a CD-ROM drive: edit it and add one.");
            }
        }
        else if (diskBoot)
        {
            // platform-vmm reads the first disk's boot configuration (BLS, extlinux, grub.cfg, Debian's /vmlinuz) at
            // every boot; a disk with nothing bootable fails the start with the VMM's reason in its log.
            if (vm.Disks.Count == 0)
            {
                throw new VmRuntimeException("The VM boots from its first disk but has no disk: edit it and add one.");
            }
        }
        else
        {
            kernel = RequireFile(vm.KernelImage is { } k ? pathOf(k) : vm.KernelPath, "kernel")
                ?? throw new VmRuntimeException("The VM has no kernel: edit it and choose a kernel image or path.");
            initrd = RequireFile(vm.InitrdImage is { } i ? pathOf(i) : vm.InitrdPath, "initrd");
        }

        // A kernel boot's command line is the whole of it; a disk boot's is added to the one the disk's boot
        // configuration gives, after console=ttyS0 when there is no display (the serial console is then the only one,
        // and the disk's command line may name only tty0).
        string commandLine = firmware ? "" : string.Join(' ', new[] { diskBoot && !vm.DisplayEnabled ? "console=ttyS0" : null, vm.CommandLine?.Trim() }
            .Where(part => !string.IsNullOrEmpty(part)));

        var config = new VmConfig
        {
            Firmware = firmware ? FirmwareKind.Bios : FirmwareKind.None,
            BootOrder = firmware && vm.BootOrder is { Count: > 0 } order ? [.. order] : null,
            Cdrom = vm.HasCdrom ? new CdromConfig(RequireFile(vm.CdromImage is { } iso ? pathOf(iso) : null, "ISO image")) : null,
            Boot = diskBoot ? BootSource.Disk : BootSource.Kernel,
            Kernel = kernel,
            Initrd = initrd,
            CommandLine = commandLine.Length > 0 ? commandLine : null,
            MemoryMiB = vm.MemoryMiB,
            Cpus = vm.VcpuCount,
            OnReboot = vm.OnReboot,
            Disks = [.. vm.Disks.OrderBy(d => d.Position).Select(disk => Disk(disk, pathOf, linkedCloneOf, ownDiskOf)), .. CloudInitSeed(vm, cloudInitSeedOf)],
            Nics = [.. vm.Nics.OrderBy(n => n.Position).Select(Nic)],
            Display = vm.DisplayEnabled ? DisplayKind.Std : DisplayKind.None,
            // Always said, even for virtio (the VMM's default): the VM's setting, not the VMM's default, decides.
            Input = vm.DisplayEnabled ? vm.Input : null,
            Serial = SerialMode.Socket,
            RuntimeDir = runtimeDirectory,
        };

        var problems = VmConfigValidator.Validate(config);
        return problems.Count == 0
            ? config
            : throw new VmRuntimeException($"The VM's configuration cannot run: {string.Join("; ", problems)}. Edit the VM to fix it.");
    }

    /// <summary>A NIC on a NAT network is a user-mode NIC with its forwards; on a bridge network, a bridge NIC; else its TAP.</summary>
    private static NicConfig Nic(VmNic nic) => nic switch
    {
        { TapName: { } tap } => new NicConfig(tap) { Kind = NicKind.Tap, Mac = nic.MacAddress },
        { Network: { Kind: NetworkKind.Bridge } network } => new NicConfig { Kind = NicKind.Bridge, Bridge = network.Bridge, Vlan = network.Vlan, Mac = nic.MacAddress },
        { Network: { Kind: NetworkKind.Nat } } => new NicConfig
        {
            Kind = NicKind.User, Mac = nic.MacAddress,
            Forwards = [.. nic.PortForwards.Select(f => new PortForwardConfig
            {
                Protocol = f.Protocol, HostAddress = f.HostAddress, HostPort = f.HostPort, GuestPort = f.GuestPort,
            })],
        },
        _ => throw new VmRuntimeException($"NIC {nic.Position + 1}'s network is gone. Edit the VM to choose another."),
    };

    private static DiskConfig Disk(VmDisk disk, Func<ImageFile, string> pathOf, Func<VmDisk, string>? linkedCloneOf, Func<VmDisk, string>? ownDiskOf)
    {
        string? path;
        DiskFormat? format;
        if (disk.FileName is not null)
        {
            path = RequireFile(ownDiskOf?.Invoke(disk) ?? throw new VmRuntimeException($"Disk {disk.Position + 1} is the VM's own, which this start cannot find."), "disk");
            format = disk.Format == ImageFormat.Raw ? DiskFormat.Raw : DiskFormat.Qcow2;
        }
        else if (disk.LinkedClone && disk.Image is { } baseImage)
        {
            RequireFile(pathOf(baseImage), "disk");
            path = LinkedClone(disk, linkedCloneOf);
            format = DiskFormat.Qcow2;
        }
        else
        {
            path = RequireFile(disk.Image is { } image ? pathOf(image) : disk.Path, "disk");
            // Library images have a known format, so the VMM never has to guess; host files are detected by the VMM.
            format = disk.Image?.Format is { } known ? (known == ImageFormat.Qcow2 ? DiskFormat.Qcow2 : DiskFormat.Raw) : null;
        }

        return new DiskConfig(path ?? throw new VmRuntimeException($"Disk {disk.Position + 1} has neither an image nor a path."))
        {
            ReadOnly = disk.ReadOnly,
            Cache = disk.Cache == DiskCacheMode.None ? DiskCache.None : DiskCache.Writeback,
            Bus = disk.Bus,
            Format = format,
            Bps = disk.MaxBytesPerSecond,
            Iops = disk.MaxIops,
        };
    }

    /// <summary>
    /// The NoCloud seed as the last disk: raw, read-only (the guest reads it; nothing writes it but the dashboard). After
    /// the VM's own disks, so their numbers, and the boot disk, stay what the user set.
    /// </summary>
    private static IEnumerable<DiskConfig> CloudInitSeed(VirtualMachine vm, Func<VirtualMachine, string?>? cloudInitSeedOf)
    {
        if (vm.CloudInit is not { Enabled: true })
        {
            yield break;
        }

        if (cloudInitSeedOf is null)
        {
            throw new VmRuntimeException("The VM has cloud-init, whose seed this start cannot make.");
        }

        string? seed;
        try
        {
            seed = cloudInitSeedOf(vm);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VmRuntimeException($"The cloud-init seed could not be made: {ex.Message}", ex);
        }

        if (seed is not null)
        {
            yield return new DiskConfig(seed) { ReadOnly = true, Format = DiskFormat.Raw };
        }
    }

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
