using System.Text.Json.Serialization;

namespace Platform.Contracts.Config;

/// <summary>
/// One VM's machine as platform-vmm runs it: the one type the dashboard writes (<c>run/{id}/vm.json</c>, read by
/// <c>platform-vmm --config</c>) and the command line maps onto. Firecracker's <c>--config-file</c> and Cloud
/// Hypervisor's <c>VmConfig</c> are the model: values keep their types end to end (sizes are numbers, enums are
/// enums, paths are strings that may hold any character). <see cref="VmConfigValidator"/> checks it, naming the field.
/// </summary>
/// <example>
/// { "kernel": "/boot/vmlinuz", "cmdline": "console=ttyS0", "memory_mib": 1024, "cpus": 2,
///   "disks": [ { "path": "root.qcow2", "format": "qcow2" }, { "path": "data.img", "read_only": true, "cache": "none" } ],
///   "nics": [ { "kind": "user", "forwards": [ { "host_port": 2222, "guest_port": 22 } ] }, { "tap": "tap0" } ], "rng": true, "display": "std", "input": "virtio",
///   "vnc": { "listen": "127.0.0.1:5901" }, "serial": "socket", "runtime_dir": "/var/lib/platform/run/0f3c…" }
/// </example>
public sealed record VmConfig
{
    /// <summary>Debian's SeaBIOS (package <c>seabios</c>): the BIOS image <see cref="FirmwareKind.Bios"/> runs unless <see cref="Bios"/> names another.</summary>
    public const string DebianSeaBios = "/usr/share/seabios/bios.bin";

    /// <summary><see cref="FirmwareKind.Bios"/>: SeaBIOS boots the disks; kernel, initrd, cmdline and boot are then left out.</summary>
    public FirmwareKind Firmware { get; set; } = FirmwareKind.None;

    /// <summary>The BIOS image with <see cref="FirmwareKind.Bios"/>; left out: <see cref="DebianSeaBios"/>.</summary>
    public string? Bios { get; set; }

    /// <summary>A host file that gets what the firmware writes to its debug port 0x402 (SeaBIOS's log), as QEMU's isa-debugcon.</summary>
    [JsonPropertyName("firmware_log")]
    public string? FirmwareLog { get; set; }

    public BootSource Boot { get; set; } = BootSource.Kernel;

    /// <summary>The kernel file (bzImage, or an ELF kernel with a PVH note); required when booting a kernel.</summary>
    public string? Kernel { get; set; }

    public string? Initrd { get; set; }

    /// <summary>
    /// Booting a kernel: the whole command line (<c>console=ttyS0</c> when left out). Booting from the disk: what is
    /// added after the command line the disk's configuration gives (nothing when left out).
    /// </summary>
    [JsonPropertyName("cmdline")]
    public string? CommandLine { get; set; }

    /// <summary>Guest RAM in MiB.</summary>
    [JsonPropertyName("memory_mib")]
    public int MemoryMiB { get; set; } = 512;

    public int Cpus { get; set; } = 1;

    [JsonPropertyName("on_reboot")]
    public RebootPolicy OnReboot { get; set; } = RebootPolicy.Exit;

    /// <summary>
    /// The disks: virtio-blk ones in PCI slot order (the first is /dev/vda in a Linux guest), SATA ones on the AHCI
    /// controller's ports in order after the CD-ROM's. "disk" in the boot order boots them in this order.
    /// </summary>
    public IReadOnlyList<DiskConfig> Disks { get; set; } = [];

    /// <summary>virtio-net NICs, in PCI slot order (eth0 first).</summary>
    public IReadOnlyList<NicConfig> Nics { get; set; } = [];

    /// <summary>A DVD/CD-ROM drive on an AHCI controller (port 0), with an ISO image in it or empty; left out: no drive.</summary>
    public CdromConfig? Cdrom { get; set; }

    /// <summary>
    /// With firmware bios: the order the BIOS tries the boot devices in (<c>["cdrom", "disk"]</c>), handed to SeaBIOS as
    /// fw_cfg's <c>bootorder</c>. Left out: the disks, then the CD-ROM.
    /// </summary>
    [JsonPropertyName("boot_order")]
    public IReadOnlyList<BootDevice>? BootOrder { get; set; }

    /// <summary>A virtio-rng (host entropy); off unless asked for, as in QEMU.</summary>
    public bool Rng { get; set; }

    /// <summary>
    /// An HPET at 0xFED00000 (with its ACPI table). Left out: on with firmware, as on QEMU's pc machine, off on a direct
    /// boot; false turns it off for an OS that misbehaves with one, true gives a direct boot one.
    /// </summary>
    public bool? Hpet { get; set; }

    public DisplayKind Display { get; set; } = DisplayKind.Std;

    /// <summary>The display's input devices; only with a display. Left out: <see cref="InputKind.Virtio"/>.</summary>
    public InputKind? Input { get; set; }

    /// <summary>Also serve the display to VNC viewers on a TCP address.</summary>
    public VncConfig? Vnc { get; set; }

    public SerialMode Serial { get; set; } = SerialMode.Stdio;

    /// <summary>The folder for control.sock, serial.sock, vnc.sock and vmm.pid (docs/control-protocol.md).</summary>
    [JsonPropertyName("runtime_dir")]
    public string? RuntimeDir { get; set; }

    /// <summary>The BIOS image the machine runs, defaults applied (meaningless without firmware).</summary>
    [JsonIgnore]
    public string EffectiveBios => Bios ?? DebianSeaBios;

    /// <summary>The command line the kernel gets, defaults applied.</summary>
    [JsonIgnore]
    public string EffectiveCommandLine => CommandLine ?? (Boot == BootSource.Disk ? "" : "console=ttyS0");

    /// <summary>The input devices the machine gets, defaults applied (meaningless without a display).</summary>
    [JsonIgnore]
    public InputKind EffectiveInput => Input ?? InputKind.Virtio;

    /// <summary>The boot order the BIOS gets, defaults applied: the disks, then the CD-ROM.</summary>
    [JsonIgnore]
    public IReadOnlyList<BootDevice> EffectiveBootOrder => BootOrder ?? [BootDevice.Disk, BootDevice.Cdrom];

    /// <summary>Whether the machine has the AHCI controller: for a CD-ROM drive or any SATA disk.</summary>
    [JsonIgnore]
    public bool HasAhci => Cdrom is not null || Disks.Any(d => d.Bus == DiskBus.Sata);

    /// <summary>PCI slots storage controllers take: one per virtio-blk disk, and the AHCI controller when there is one.</summary>
    [JsonIgnore]
    public int StoragePciDevices => Disks.Count(d => d.Bus != DiskBus.Sata) + (HasAhci ? 1 : 0);

    /// <summary>PCI slots the chipset takes besides the host bridge: with firmware, the PIIX3 ISA bridge at 00:01.0.</summary>
    [JsonIgnore]
    public int ChipsetPciDevices => Firmware == FirmwareKind.Bios ? 1 : 0;

    /// <summary>PCI functions the display brings: the std-vga, and with virtio input a tablet and a keyboard.</summary>
    [JsonIgnore]
    public int DisplayPciDevices => Display == DisplayKind.None ? 0 : EffectiveInput == InputKind.Virtio ? 3 : 1;
}

/// <summary>One disk: a virtio-blk disk, or a SATA disk on the AHCI controller.</summary>
/// <param name="Path">The raw or qcow2 image on the host.</param>
public sealed record DiskConfig(string Path)
{
    /// <summary>The controller the disk sits on; left out: virtio.</summary>
    public DiskBus Bus { get; set; } = DiskBus.Virtio;

    /// <summary>The guest cannot write (writes fail with an I/O error).</summary>
    [JsonPropertyName("read_only")]
    public bool ReadOnly { get; set; }

    public DiskCache Cache { get; set; } = DiskCache.Writeback;

    /// <summary>Up to <see cref="VmConfigLimits.DiskSerialMaxLength"/> characters the guest reads as the disk's serial.</summary>
    public string? Serial { get; set; }

    /// <summary>Left out: an image starting with the qcow2 magic is qcow2, any other raw (which may then not write that magic).</summary>
    public DiskFormat? Format { get; set; }

    /// <summary>At most this many bytes a second, reads and writes together (QEMU's <c>throttle.bps-total</c>); left out: unlimited.</summary>
    public long? Bps { get; set; }

    /// <summary>At most this many read and write requests a second (QEMU's <c>throttle.iops-total</c>); left out: unlimited.</summary>
    public int? Iops { get; set; }
}

/// <summary>A DVD/CD-ROM drive (ATAPI, on an AHCI controller).</summary>
/// <param name="Path">The ISO 9660 image in the drive, read-only; null: the drive is empty (insert one at run time).</param>
public sealed record CdromConfig(string? Path = null);

/// <summary>One virtio-net NIC and where its frames go.</summary>
/// <param name="Tap">With <see cref="NicKind.Tap"/>: the existing TAP device's name.</param>
public sealed record NicConfig(string? Tap = null)
{
    /// <summary>Left out: <see cref="NicKind.Tap"/> when <see cref="Tap"/> is given (vm.json before NIC kinds existed),
    /// <see cref="NicKind.Bridge"/> when <see cref="Bridge"/> is, <see cref="NicKind.User"/> otherwise.</summary>
    public NicKind? Kind { get; set; }

    /// <summary>With <see cref="NicKind.Bridge"/>: the existing host bridge the VMM's TAP joins.</summary>
    public string? Bridge { get; set; }

    /// <summary>
    /// With <see cref="NicKind.Bridge"/>: the 802.1Q VLAN (1–4094) the NIC's port carries, untagged towards the guest
    /// (an access port, Proxmox's <c>tag=</c>); the bridge must filter VLANs. Left out: the bridge's default.
    /// </summary>
    public int? Vlan { get; set; }

    /// <summary>"52:54:00:12:34:56"; left out: 52:54:00 and three bytes derived from the NIC (<see cref="NicMac.Of"/>).</summary>
    public string? Mac { get; set; }

    /// <summary>With <see cref="NicKind.User"/>: host ports forwarded to the guest (QEMU's hostfwd).</summary>
    public IReadOnlyList<PortForwardConfig> Forwards { get; set; } = [];

    [JsonIgnore]
    public NicKind EffectiveKind => Kind ?? (Tap is not null ? NicKind.Tap : Bridge is not null ? NicKind.Bridge : NicKind.User);
}

/// <summary>A host address and port whose connections (TCP) or datagrams (UDP) reach the guest's port.</summary>
public sealed record PortForwardConfig
{
    public ForwardProtocol Protocol { get; set; } = ForwardProtocol.Tcp;

    /// <summary>The host address to listen on: loopback unless someone means to expose the guest.</summary>
    [JsonPropertyName("host_address")]
    public string HostAddress { get; set; } = "127.0.0.1";

    [JsonPropertyName("host_port")]
    public int HostPort { get; set; }

    [JsonPropertyName("guest_port")]
    public int GuestPort { get; set; }

    /// <summary>QEMU's spelling, <c>tcp:127.0.0.1:8080-:80</c>.</summary>
    public override string ToString() =>
        $"{(Protocol == ForwardProtocol.Udp ? "udp" : "tcp")}:{(HostAddress.Contains(':', StringComparison.Ordinal) ? $"[{HostAddress}]" : HostAddress)}:{HostPort}-:{GuestPort}";
}

/// <summary>A TCP listener for VNC viewers beside vnc.sock.</summary>
/// <param name="Listen">"127.0.0.1:5901", "[::1]:5901", "localhost:5901"; port 0 takes any free one.</param>
public sealed record VncConfig(string Listen)
{
    /// <summary>A file whose first line is the VNC password; required unless <see cref="Listen"/> is a loopback address.</summary>
    [JsonPropertyName("password_file")]
    public string? PasswordFile { get; set; }
}
