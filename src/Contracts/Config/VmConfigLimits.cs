namespace Platform.Contracts.Config;

/// <summary>The bounds <see cref="VmConfigValidator"/> holds a configuration to; the dashboard's forms use the same.</summary>
public static class VmConfigLimits
{
    public const int MaxCpus = 16;

    public const int MinMemoryMiB = 16;

    /// <summary>64 TiB: past the guest-physical address space the machine lays out.</summary>
    public const int MaxMemoryMiB = 64 * 1024 * 1024;

    /// <summary>PCI slots 1–31 are free for devices (0 is the host bridge).</summary>
    public const int MaxPciDevices = 31;

    /// <summary>The smallest disk bandwidth limit, 4 KiB/s: below it one page-sized request waits over a second.</summary>
    public const long MinDiskBps = 4096;

    /// <summary>The smallest disk request-rate limit.</summary>
    public const int MinDiskIops = 1;

    /// <summary>The AHCI controller's ports (QEMU's ICH9 AHCI has six): the CD-ROM's and the SATA disks' together.</summary>
    public const int AhciPorts = 6;

    /// <summary>virtio-blk's ID string (VIRTIO_BLK_ID_BYTES); ATA's serial number holds as many.</summary>
    public const int DiskSerialMaxLength = 20;

    /// <summary>passt takes a list per protocol; more than this is a mistake, not a configuration.</summary>
    public const int MaxForwardsPerNic = 64;

    /// <summary>IFNAMSIZ − 1: Linux interface names are at most 15 bytes.</summary>
    public const int TapNameMaxLength = 15;

    /// <summary>802.1Q VLAN ids a port may carry: 0 means "no VLAN" and 4095 is reserved.</summary>
    public const int MinVlan = 1, MaxVlan = 4094;

    /// <summary>
    /// sun_path holds 107 bytes and a NUL; the longest socket name in the runtime folder is "/control.sock" (13), so the
    /// folder's path may have at most 94 bytes.
    /// </summary>
    public const int RuntimeDirMaxBytes = 107 - 13;

    /// <summary>An interface name Linux takes: 1–15 printable ASCII characters without '/', ':' or spaces, not "." or "..".</summary>
    public static bool IsValidTapName(string name) =>
        name.Length is > 0 and <= TapNameMaxLength && name != "." && name != ".." &&
        name.All(c => c > ' ' && c < 0x7F && c != '/' && c != ':');
}
