using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Display;
using Platform.Engine.Machine;
using Platform.Engine.Net;

namespace Platform.Engine.Vmm;

/// <summary>What the command line asked for.</summary>
internal sealed record VmmOptions(MachineConfig? Machine, string Serial, string? RuntimeDir, bool Help, bool Check, VncListenOptions? Vnc = null)
{
    /// <summary>With <c>--check</c>: the disks to describe.</summary>
    public IReadOnlyList<DiskOptions> CheckDisks { get; init; } = [];
}

/// <summary>Parses platform-vmm's arguments; every mistake becomes a <see cref="UsageException"/> naming it.</summary>
internal static class CommandLine
{
    public const string Usage = """
        Usage: platform-vmm --kernel FILE [options]
               platform-vmm --boot disk --disk IMAGE [options]
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
          --memory SIZE         guest RAM, e.g. 512M, 2G (default 512M)
          --cpus N              vCPUs, 1 to 16 (default 1)
          --disk PATH[,ro][,cache=writeback|none][,serial=ID][,format=raw|qcow2]
                                a virtio-blk disk on a raw or qcow2 image (repeatable; the first is /dev/vda).
                                ro: the guest cannot write (writes fail with an I/O error);
                                cache=writeback (default): the guest's flush is an fsync;
                                cache=none: the host page cache is bypassed (O_DIRECT, as QEMU's);
                                serial=ID: up to 20 characters the guest reads as the disk's serial;
                                format: without it, an image starting with the qcow2 magic is qcow2 and
                                any other is raw (then the guest may not write that magic to its first
                                bytes); give format=raw for a raw image that starts with it. qcow2
                                backing files are opened read-only, relative names from the image's folder
          --net tap=NAME[,mac=52:54:00:xx:xx:xx]
                                a virtio-net NIC on host TAP device NAME (repeatable; create it first with
                                `ip tuntap add NAME mode tap`, or run with CAP_NET_ADMIN); the default MAC
                                is 52:54:00 and three bytes derived from NAME, so it is the same every boot
          --rng                 a virtio-rng: host entropy for the guest (off by default, as in QEMU)
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
          --on-reboot POLICY    exit (default): end with code 2 when the guest resets; restart: boot again
          --config FILE         read the machine from a JSON file (options given after it override it;
                                --disk and --net add to its "disks" and "nics")
          --check               report what KVM this host offers and exit; with --disk (or --config), also
                                open each disk read-only and print its format, virtual size and backing
                                chain; with --boot disk also what the disk would boot (partition,
                                configuration, kernel, initrd, command line)
          -h, --help            this text

        Exit codes: 0 guest powered off or quit, 1 could not start, 2 guest reset (--on-reboot exit),
                    3 guest died (KVM emulation failure, failed entry), 64 usage error.
        """;

    public static VmmOptions Parse(string[] args)
    {
        string? kernel = null, initrd = null, append = null, runtimeDir = null;
        BootSource? boot = null;
        string serial = "stdio";
        ulong? memory = null;
        int? cpus = null;
        RebootPolicy? onReboot = null;
        VmConfigFile? file = null;
        bool help = false, check = false, rng = false;
        DisplayKind? display = null;
        InputKind? input = null;
        VncListenOptions? vnc = null;
        var disks = new List<DiskOptions>();
        var nics = new List<NicOptions>();

        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{arg} needs a value");
            switch (arg)
            {
                case "-h" or "--help": help = true; break;
                case "--check": check = true; break;
                case "--kernel": kernel = Value(); break;
                case "--initrd": initrd = Value(); break;
                case "--append": append = Value(); break;
                case "--boot": boot = ParseBoot(Value(), "--boot"); break;
                case "--memory": memory = ParseSize(Value()); break;
                case "--cpus": cpus = ParseInt(Value(), "--cpus"); break;
                case "--serial":
                    serial = Value();
                    if (serial is not ("stdio" or "socket" or "none"))
                    {
                        throw new UsageException($"--serial must be stdio, socket or none (got {serial})");
                    }

                    break;
                case "--runtime-dir": runtimeDir = Value(); break;
                case "--on-reboot":
                    onReboot = Value() switch
                    {
                        "exit" => RebootPolicy.Exit,
                        "restart" => RebootPolicy.Restart,
                        var other => throw new UsageException($"--on-reboot must be exit or restart (got {other})"),
                    };
                    break;
                case "--config": file = ReadConfig(Value()); break;
                case "--disk": disks.Add(Parse(Value(), DiskOptions.Parse)); break;
                case "--net": nics.Add(Parse(Value(), NicOptions.Parse)); break;
                case "--rng": rng = true; break;
                case "--display": display = ParseDisplay(Value(), "--display"); break;
                case "--input": input = ParseInput(Value(), "--input"); break;
                case "--vnc": vnc = Parse(Value(), VncListenOptions.Parse); break;
                default: throw new UsageException($"unknown option {arg}");
            }
        }

        var bootSource = boot ?? (file?.Boot is { } b ? ParseBoot(b, "\"boot\"") : BootSource.Kernel);
        if (help || (check && bootSource != BootSource.Disk))
        {
            return new VmmOptions(null, serial, runtimeDir, help, check)
            {
                CheckDisks = [.. (file?.Disks ?? []).Select(FromFile), .. disks],
            };
        }

        if (bootSource == BootSource.Disk)
        {
            if (kernel is not null || initrd is not null || file?.Kernel is not null || file?.Initrd is not null)
            {
                throw new UsageException("--boot disk reads the kernel and initrd from the disk: leave out --kernel and --initrd");
            }
        }
        else
        {
            kernel ??= file?.Kernel ?? throw new UsageException("--kernel (or a config file with \"kernel\") is required");
        }

        var machine = new MachineConfig
        {
            Boot = bootSource,
            KernelPath = kernel,
            InitrdPath = initrd ?? file?.Initrd,
            // Booting from the disk, --append adds to what the disk's configuration says; there is nothing by default.
            CommandLine = append ?? file?.CommandLine ?? (bootSource == BootSource.Disk ? "" : "console=ttyS0"),
            MemoryBytes = memory ?? (file?.Memory is { } m ? ParseSize(m) : 512ul << 20),
            CpuCount = cpus ?? file?.Cpus ?? 1,
            OnReboot = onReboot ?? (file?.OnReboot == "restart" ? RebootPolicy.Restart : RebootPolicy.Exit),
            Disks = [.. (file?.Disks ?? []).Select(FromFile), .. disks],
            Nics = [.. (file?.Nics ?? []).Select(FromFile), .. nics],
            Rng = rng || (file?.Rng ?? false),
            Display = display ?? (file?.Display is { } d ? ParseDisplay(d, "\"display\"") : DisplayKind.Std),
            Input = input ?? (file?.Input is { } inputKind ? ParseInput(inputKind, "\"input\"") : InputKind.Virtio),
        };
        vnc ??= file?.Vnc is { } listen ? FromFile(listen) : null;
        if (vnc is not null && machine.Display == DisplayKind.None)
        {
            throw new UsageException("--vnc serves the display: it cannot go with --display none");
        }

        if ((input is not null || file?.Input is not null) && machine.Display == DisplayKind.None)
        {
            throw new UsageException("--input chooses the display's input devices: it cannot go with --display none");
        }

        var problems = machine.Validate();
        if (problems.Count > 0)
        {
            throw new UsageException(string.Join("; ", problems));
        }

        runtimeDir ??= file?.RuntimeDir;
        if (serial == "socket" && runtimeDir is null)
        {
            // serial.sock lives in the runtime folder; without one the console would go nowhere.
            throw new UsageException("--serial socket needs --runtime-dir (serial.sock is created there)");
        }

        return new VmmOptions(machine, serial, runtimeDir, false, check, vnc) { CheckDisks = check ? machine.Disks : [] };
    }

    private static BootSource ParseBoot(string text, string option) => text switch
    {
        "kernel" => BootSource.Kernel,
        "disk" => BootSource.Disk,
        _ => throw new UsageException($"{option} must be kernel or disk (got {text})"),
    };

    private static DisplayKind ParseDisplay(string text, string option) => text switch
    {
        "std" => DisplayKind.Std,
        "none" => DisplayKind.None,
        _ => throw new UsageException($"{option} must be std or none (got {text})"),
    };

    private static InputKind ParseInput(string text, string option) => text switch
    {
        "virtio" => InputKind.Virtio,
        "ps2" => InputKind.Ps2,
        _ => throw new UsageException($"{option} must be virtio or ps2 (got {text})"),
    };

    private static VncListenOptions FromFile(VmVncConfig vnc) =>
        Parse(vnc.Listen ?? throw new UsageException("\"vnc\" needs \"listen\": \"ADDR:PORT\""),
            listen => VncListenOptions.Create(VncListenOptions.ParseEndPoint(listen), vnc.PasswordFile));

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

    private static T Parse<T>(string text, Func<string, T> parse)
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

    private static DiskOptions FromFile(VmDiskConfig disk)
    {
        if (string.IsNullOrEmpty(disk.Path))
        {
            throw new UsageException("each of \"disks\" needs a \"path\"");
        }

        var cache = disk.Cache switch
        {
            null or "writeback" => DiskCacheMode.Writeback,
            "none" => DiskCacheMode.None,
            var other => throw new UsageException($"disk {disk.Path}: \"cache\" must be writeback or none (got {other})"),
        };
        if (disk.Serial is { Length: 0 or > VirtioBlock.IdLength })
        {
            throw new UsageException($"disk {disk.Path}: \"serial\" must be 1 to {VirtioBlock.IdLength} characters");
        }

        DiskImageFormat? format = disk.Format is null ? null
            : DiskImageProbe.Parse(disk.Format) ?? throw new UsageException($"disk {disk.Path}: \"format\" must be raw or qcow2 (got {disk.Format})");
        return new DiskOptions(disk.Path, disk.ReadOnly ?? false, cache, disk.Serial, format);
    }

    private static NicOptions FromFile(VmNicConfig nic) =>
        Parse(nic.Mac is null ? $"tap={nic.Tap}" : $"tap={nic.Tap},mac={nic.Mac}", NicOptions.Parse);

    private static int ParseInt(string text, string option) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new UsageException($"{option} needs a number (got {text})");

    private static VmConfigFile ReadConfig(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, VmConfigJson.Default.VmConfigFile)
                ?? throw new UsageException($"{path} is empty");
        }
        catch (JsonException ex)
        {
            throw new UsageException($"{path} is not a valid VM config: {ex.Message}");
        }
        catch (IOException ex)
        {
            throw new UsageException($"cannot read {path}: {ex.Message}");
        }
    }
}

/// <summary>vm.json: the same settings as the command line.</summary>
/// <example>
/// { "kernel": "vmlinuz", "memory": "1G", "disks": [ { "path": "root.qcow2", "format": "qcow2" }, { "path": "data.img", "read_only": true } ],
///   "nics": [ { "tap": "tap0", "mac": "52:54:00:12:34:56" } ], "rng": true,
///   "display": "std", "input": "virtio", "vnc": { "listen": "127.0.0.1:5901", "password_file": "vnc.pass" } }
/// or, booting what the first disk's configuration names: { "boot": "disk", "disks": [ { "path": "debian.img" } ] }
/// </example>
internal sealed record VmConfigFile(
    string? Kernel, string? Initrd, [property: JsonPropertyName("cmdline")] string? CommandLine, string? Memory,
    int? Cpus, [property: JsonPropertyName("on_reboot")] string? OnReboot, [property: JsonPropertyName("runtime_dir")] string? RuntimeDir,
    IReadOnlyList<VmDiskConfig>? Disks = null, IReadOnlyList<VmNicConfig>? Nics = null, bool? Rng = null,
    string? Display = null, VmVncConfig? Vnc = null, string? Input = null, string? Boot = null);

/// <summary>vm.json's "vnc": what --vnc says, as members.</summary>
internal sealed record VmVncConfig(string? Listen, [property: JsonPropertyName("password_file")] string? PasswordFile = null);

/// <summary>One of vm.json's "disks": what --disk says, as members.</summary>
internal sealed record VmDiskConfig(
    string Path, [property: JsonPropertyName("read_only")] bool? ReadOnly = null, string? Cache = null, string? Serial = null, string? Format = null);

/// <summary>One of vm.json's "nics": what --net says, as members.</summary>
internal sealed record VmNicConfig(string Tap, string? Mac = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(VmConfigFile))]
internal sealed partial class VmConfigJson : JsonSerializerContext;

internal sealed class UsageException(string message) : Exception(message);
