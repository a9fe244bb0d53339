using System.Globalization;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Display;
using Platform.Engine.Jail;
using Platform.Engine.Machine;
using Platform.Engine.Net;

namespace Platform.Engine.Vmm;

/// <summary>What the command line asked for: the configuration (validated) and what the VMM does with it.</summary>
internal sealed record VmmOptions(VmConfig Config, MachineConfig? Machine, bool Help, bool Check, VncListenOptions? Vnc = null)
{
    /// <summary>The uid/gid to jail the VMM as (<c>--jail</c>); null with <c>--no-jail</c> or without one given (see <see cref="JailDefault"/>).</summary>
    public JailOptions? Jail { get; init; }

    /// <summary><c>--no-jail</c>: run with the rights the VMM was started with.</summary>
    public bool NoJail { get; init; }

    /// <summary>The jail this VMM enters: <c>--jail</c>, or by default <see cref="JailOptions.DefaultId"/> when started as root.</summary>
    public JailOptions? JailDefault(bool root) => NoJail ? null : Jail ?? (root ? new JailOptions(JailOptions.DefaultId, JailOptions.DefaultId) : null);

    /// <summary>With <c>--check</c>: the disks to describe.</summary>
    public IReadOnlyList<DiskOptions> CheckDisks { get; init; } = [];
}

/// <summary>
/// Maps platform-vmm's arguments onto a <see cref="VmConfig"/> — the type vm.json holds — and has
/// <see cref="VmConfigValidator"/> check it; every mistake becomes a <see cref="UsageException"/> naming it.
/// </summary>
internal static class CommandLine
{
    public const string Usage = """
        Usage: platform-vmm --kernel FILE [options]
               platform-vmm --boot disk --disk IMAGE [options]
               platform-vmm --firmware bios --disk IMAGE [options]
               platform-vmm --firmware bios --cdrom IMAGE.iso [options]
               platform-vmm --config vm.json [options]
               platform-vmm --check [--boot disk --disk IMAGE]

        Runs one virtual machine on /dev/kvm.

          --kernel FILE         bzImage, or ELF kernel with a PVH note (vmlinux, test guests)
          --initrd FILE         initial ramdisk
          --append TEXT         kernel command line (default: console=ttyS0); with --boot disk, added after
                                the command line the disk's configuration gives
          --boot kernel|disk    kernel (default): boot --kernel. disk: boot what the first disk's boot
                                configuration names, read from the image by the VMM at every boot, as
                                pygrub does: Boot Loader Spec entries, extlinux.conf, grub.cfg, or Debian's
                                /vmlinuz and /initrd.img (root= that partition); raw or qcow2 images with
                                MBR or GPT partitions, or none; ext2/3/4 file systems
          --firmware none|bios  none (default): the VMM loads the kernel (--kernel, --boot). bios: SeaBIOS
                                starts at the reset vector on a PC chipset (i440FX, PIIX3, fw_cfg) and boots
                                the disks' boot sectors, as QEMU's pc machine does; its serial console is
                                COM1 with --display none
          --bios FILE           the BIOS image for --firmware bios (default /usr/share/seabios/bios.bin,
                                Debian's seabios package)
          --cdrom FILE.iso|empty
                                a DVD/CD-ROM drive (ATAPI on an AHCI controller, QEMU's ICH9 AHCI) with the
                                ISO 9660 image read-only in it; empty: a drive with no disc (insert one
                                with the control socket's blockdev-change-medium; ./empty names a file)
          --boot-order LIST     with --firmware bios: the order SeaBIOS boots from, e.g. cdrom,disk
                                (default disk,cdrom)
          --firmware-log FILE   append what the firmware writes to its debug port 0x402 (SeaBIOS's log)
          --memory SIZE         guest RAM, e.g. 512M, 2G (default 512M)
          --cpus N              vCPUs, 1 to 16 (default 1)
          --disk PATH[,ro][,bus=virtio|sata][,cache=writeback|none][,serial=ID][,format=raw|qcow2]
                                a disk on a raw or qcow2 image (repeatable; the first virtio one is /dev/vda).
                                bus=virtio (default): a virtio-blk PCI device; bus=sata: a SATA hard disk
                                on the AHCI controller (ports after the CD-ROM's port 0; 6 ports in all),
                                which installers and SeaBIOS drive without a driver of their own;
                                ro: the guest cannot write (writes fail with an I/O error);
                                cache=writeback (default): the guest's flush is an fsync;
                                cache=none: the host page cache is bypassed (O_DIRECT, as QEMU's);
                                serial=ID: up to 20 characters the guest reads as the disk's serial;
                                format: without it, an image starting with the qcow2 magic is qcow2 and
                                any other is raw (then the guest may not write that magic to its first
                                bytes); give format=raw for a raw image that starts with it. qcow2
                                backing files are opened read-only, relative names from the image's folder
          --net user[,mac=M][,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-:GUESTPORT]...
                                a virtio-net NIC with user-mode NAT of its own (repeatable): a passt
                                process, our child, gives the guest DHCP, DNS and outbound TCP/UDP/ICMP
                                through the host, with no host set-up and no privilege. hostfwd forwards
                                a host port to the guest's (HOSTADDR defaults to 127.0.0.1, unlike QEMU)
          --net tap=NAME[,mac=M]
                                a virtio-net NIC on existing host TAP device NAME (create it first with
                                `ip tuntap add NAME mode tap`, or run with CAP_NET_ADMIN)
          --net bridge=BR[,mac=M]
                                a virtio-net NIC on a TAP the VMM creates, joins to host bridge BR and
                                removes when it ends (needs CAP_NET_ADMIN). The default MAC is 52:54:00
                                and three bytes derived from the TAP name, the bridge or the NIC's place
          --rng                 a virtio-rng: host entropy for the guest (off by default, as in QEMU)
          --hpet on|off         an HPET at 0xFED00000 with its ACPI table (default: on with --firmware bios,
                                as QEMU's pc machine; off on a direct boot)
          --display std|none    std (default, as QEMU's pc machine): a std-vga (Bochs VBE, PCI 1234:1111,
                                16 MiB) whose screen is served over RFB on vnc.sock in the runtime folder
                                (security None: the folder is owner-only); Linux kernels find a 1024x768
                                framebuffer set up for them. none: no display, no vnc.sock
          --input virtio|ps2    the display's keyboard and pointer. virtio (default): a virtio tablet (the
                                guest's cursor follows the viewer's) and a virtio keyboard beside the PS/2
                                keyboard; keys go to the virtio keyboard once the guest's driver runs it
                                (Linux: virtio_input), to PS/2 until then. ps2: the PS/2 keyboard only
          --vnc ADDR:PORT[,password-file=FILE]
                                also serve the screen to VNC viewers on a TCP address, e.g. 127.0.0.1:5901.
                                A loopback address needs no password (security None, as in QEMU); any other
                                address is refused without password-file= (VNC authentication with the
                                file's first line, of which VNC uses 8 characters; weak: prefer an SSH tunnel)
          --serial MODE         stdio (default): console on stdout/stdin as well as serial.sock;
                                socket or none: serial.sock only (socket requires --runtime-dir)
          --runtime-dir DIR     folder for control.sock, serial.sock, vnc.sock and vmm.pid (docs/control-protocol.md)
          --jail UID[:GID]      run jailed as this unprivileged uid (and gid; default: the uid): new mount,
                                PID, IPC and UTS namespaces, a root holding only the VM's files, no
                                capabilities, no_new_privs and a seccomp allowlist. On by default when
                                started as root, as uid:gid 200000:200000 (docs/architecture.md, Confinement)
          --no-jail             run with the rights the VMM was started with (development only; says so)
          --on-reboot POLICY    exit (default): end with code 2 when the guest resets; restart: boot again
          --config FILE         read the machine from a vm.json file (docs/vm-config.md; the dashboard
                                writes one per VM); other options override its settings, --disk and
                                --net add to its "disks" and "nics"
          --check               report what KVM this host offers and exit; with --disk (or --config), also
                                open each disk read-only and print its format, virtual size and backing
                                chain; with --boot disk also what the disk would boot (partition,
                                configuration, kernel, initrd, command line)
          -h, --help            this text

        Exit codes: 0 guest powered off or quit, 1 could not start, 2 guest reset (--on-reboot exit),
                    3 guest died (KVM emulation failure, failed entry), 64 usage error.
        """;

    /// <summary>The option that sets each of vm.json's fields, for messages about a configuration made on the command line.</summary>
    private static readonly Dictionary<string, string> OptionOfField = new(StringComparer.Ordinal)
    {
        ["firmware"] = "--firmware", ["bios"] = "--bios", ["firmware_log"] = "--firmware-log", ["cdrom"] = "--cdrom", ["boot_order"] = "--boot-order", ["boot"] = "--boot", ["kernel"] = "--kernel", ["initrd"] = "--initrd", ["cmdline"] = "--append",
        ["memory_mib"] = "--memory", ["cpus"] = "--cpus", ["on_reboot"] = "--on-reboot", ["disks"] = "--disk",
        ["nics"] = "--net", ["rng"] = "--rng", ["hpet"] = "--hpet", ["display"] = "--display", ["input"] = "--input", ["vnc"] = "--vnc",
        ["serial"] = "--serial", ["runtime_dir"] = "--runtime-dir",
    };

    public static VmmOptions Parse(string[] args)
    {
        string? kernel = null, initrd = null, append = null, runtimeDir = null, bios = null, firmwareLog = null;
        FirmwareKind? firmware = null;
        BootSource? boot = null;
        SerialMode? serial = null;
        int? memoryMiB = null, cpus = null;
        RebootPolicy? onReboot = null;
        VmConfig? file = null;
        bool help = false, check = false, rng = false, noJail = false;
        bool? hpet = null;
        JailOptions? jail = null;
        DisplayKind? display = null;
        InputKind? input = null;
        VncConfig? vnc = null;
        CdromConfig? cdrom = null;
        List<BootDevice>? bootOrder = null;
        var disks = new List<DiskConfig>();
        var nics = new List<NicConfig>();

        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{arg} needs a value");
            switch (arg)
            {
                case "-h" or "--help": help = true; break;
                case "--check": check = true; break;
                case "--firmware": firmware = ParseName<FirmwareKind>(Value(), arg); break;
                case "--bios": bios = Value(); break;
                case "--firmware-log": firmwareLog = Value(); break;
                case "--kernel": kernel = Value(); break;
                case "--initrd": initrd = Value(); break;
                case "--append": append = Value(); break;
                case "--boot": boot = ParseName<BootSource>(Value(), arg); break;
                case "--memory": memoryMiB = ParseMemory(Value()); break;
                case "--cpus": cpus = ParseInt(Value(), arg); break;
                case "--serial": serial = ParseName<SerialMode>(Value(), arg); break;
                case "--runtime-dir": runtimeDir = Value(); break;
                case "--on-reboot": onReboot = ParseName<RebootPolicy>(Value(), arg); break;
                case "--config": file = ReadConfig(Value()); break;
                case "--disk": disks.Add(Parse(Value(), spec => MachineConfig.ConfigOf(DiskOptions.Parse(spec)))); break;
                case "--net": nics.Add(Parse(Value(), NetSpec.Parse)); break;
                case "--rng": rng = true; break;
                case "--hpet": hpet = Value() switch { "on" => true, "off" => false, var other => throw new UsageException($"--hpet takes on or off, not {other}") }; break;
                case "--jail": jail = Parse(Value(), JailOptions.Parse); break;
                case "--no-jail": noJail = true; break;
                case "--display": display = ParseName<DisplayKind>(Value(), arg); break;
                case "--input": input = ParseName<InputKind>(Value(), arg); break;
                case "--vnc": vnc = Parse(Value(), VncListenOptions.ParseSpec); break;
                case "--cdrom": cdrom = Value() is var iso && iso == "empty" ? new CdromConfig() : new CdromConfig(iso); break;
                case "--boot-order": bootOrder = [.. Value().Split(',').Select(name => ParseName<BootDevice>(name, arg))]; break;
                default: throw new UsageException($"unknown option {arg}");
            }
        }

        var basis = file ?? new VmConfig();
        var config = basis with
        {
            Firmware = firmware ?? basis.Firmware,
            Bios = bios ?? basis.Bios,
            FirmwareLog = firmwareLog ?? basis.FirmwareLog,
            Boot = boot ?? basis.Boot,
            Kernel = kernel ?? basis.Kernel,
            Initrd = initrd ?? basis.Initrd,
            CommandLine = append ?? basis.CommandLine,
            MemoryMiB = memoryMiB ?? basis.MemoryMiB,
            Cpus = cpus ?? basis.Cpus,
            OnReboot = onReboot ?? basis.OnReboot,
            Disks = [.. basis.Disks, .. disks],
            Nics = [.. basis.Nics, .. nics],
            Cdrom = cdrom ?? basis.Cdrom,
            BootOrder = bootOrder ?? basis.BootOrder,
            Rng = rng || basis.Rng,
            Hpet = hpet ?? basis.Hpet,
            Display = display ?? basis.Display,
            Input = input ?? basis.Input,
            Vnc = vnc ?? basis.Vnc,
            Serial = serial ?? basis.Serial,
            RuntimeDir = runtimeDir ?? basis.RuntimeDir,
        };

        if (help || (check && config.Boot != BootSource.Disk))
        {
            // --check describes the host and the disks: the rest of the configuration need not be complete.
            return new VmmOptions(config, null, help, check) { CheckDisks = [.. config.Disks.Select(MachineConfig.DiskOf)], NoJail = true };
        }

        var problems = VmConfigValidator.Validate(config);
        if (problems.Count > 0)
        {
            throw new UsageException(string.Join("; ", problems.Select(p => Describe(p, file is not null))));
        }

        VncListenOptions? listen = config.Vnc is { } v ? Parse(v, VncListenOptions.From) : null;
        var machine = MachineConfig.From(config);
        if (jail is not null && noJail)
        {
            throw new UsageException("--jail and --no-jail contradict each other");
        }

        return new VmmOptions(config, machine, false, check, listen) { CheckDisks = check ? machine.Disks : [], Jail = jail, NoJail = noJail || check };
    }

    /// <summary>"cpus (--cpus): must be 1 to 16 (got 17)": the field, and the option that sets it when it came from the command line.</summary>
    private static string Describe(ConfigProblem problem, bool fromFile)
    {
        string field = problem.Field;
        int end = field.IndexOfAny(['[', '.']);
        string top = end < 0 ? field : field[..end];
        return !fromFile && OptionOfField.TryGetValue(top, out string? option) ? $"{option} ({field}): {problem.Message}" : problem.ToString();
    }

    private static T ParseName<T>(string text, string option)
        where T : struct, Enum =>
        VmConfigNames.Parse<T>(text) ?? throw new UsageException($"{option} must be {string.Join(" or ", VmConfigNames.Of<T>())} (got {text})");

    /// <summary>--memory in MiB: "512M", "2G", "65536K", or plain bytes, a whole number of MiB.</summary>
    private static int ParseMemory(string text)
    {
        ulong bytes = ParseSize(text);
        return bytes % (1ul << 20) == 0
            ? (int)(bytes >> 20)
            : throw new UsageException($"--memory must be a whole number of MiB (got {text})");
    }

    /// <summary>"512M", "2G", "65536K", or plain bytes.</summary>
    public static ulong ParseSize(string text)
    {
        string t = text.Trim();
        ulong multiplier = 1;
        if (t.Length > 0 && char.IsLetter(t[^1]))
        {
            multiplier = char.ToUpperInvariant(t[^1]) switch
            {
                'K' => 1ul << 10,
                'M' => 1ul << 20,
                'G' => 1ul << 30,
                _ => throw new UsageException($"bad size {text}: use K, M or G"),
            };
            t = t[..^1];
        }

        if (!ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) || value == 0 || value > (1ul << 46) / multiplier)
        {
            throw new UsageException($"bad size {text}");
        }

        return value * multiplier;
    }

    private static T Parse<TIn, T>(TIn text, Func<TIn, T> parse)
    {
        try
        {
            return parse(text);
        }
        catch (FormatException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    private static int ParseInt(string text, string option) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new UsageException($"{option} needs a number (got {text})");

    private static VmConfig ReadConfig(string path)
    {
        try
        {
            return VmConfigFile.Read(path);
        }
        catch (VmConfigFormatException ex)
        {
            throw new UsageException(ex.Message);
        }
    }
}

internal sealed class UsageException(string message) : Exception(message);
