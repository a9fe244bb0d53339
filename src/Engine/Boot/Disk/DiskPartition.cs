namespace Platform.Engine.Boot.Disk;

/// <summary>What a partition is for, as far as finding a boot configuration goes.</summary>
public enum PartitionRole
{
    /// <summary>The whole disk holds one file system (no partition table), as Firecracker's root images do.</summary>
    WholeDisk,
    /// <summary>EFI System Partition (GPT type C12A7328-…, MBR 0xEF): usually FAT, with systemd-boot's entries.</summary>
    EfiSystem,
    /// <summary>The Boot Loader Specification's boot partition: GPT XBOOTLDR (BC13C2FF-…) or MBR 0xEA.</summary>
    ExtendedBoot,
    /// <summary>A Linux file system partition (MBR 0x83; GPT Linux data or a Linux root/usr type).</summary>
    Linux,
    /// <summary>Swap: never holds a boot configuration.</summary>
    Swap,
    /// <summary>LVM, software RAID or LUKS: a container this reader cannot open.</summary>
    Container,
    /// <summary>MBR extended partition (its logical partitions are listed on their own); GPT BIOS boot partition.</summary>
    NoFileSystem,
    /// <summary>Anything else (Microsoft basic data, FAT, NTFS…): tried last, in case it holds an ext file system.</summary>
    Other,
}

/// <summary>One partition as the guest's kernel numbers it (/dev/vda1 is <see cref="Number"/> 1; 0 is the whole disk).</summary>
/// <param name="Type">The type as the table says it: "0x83", or a GPT type GUID.</param>
/// <param name="Bootable">MBR's active flag (0x80), or GPT's legacy BIOS bootable attribute (bit 2).</param>
public sealed record DiskPartition(int Number, long Start, long Length, string Type, PartitionRole Role, bool Bootable)
{
    /// <summary>The block device a Linux guest sees for it when it is on the disk named <paramref name="disk"/> ("vda").</summary>
    public string DevicePath(string disk) => Number == 0 ? $"/dev/{disk}" : $"/dev/{disk}{Number}";

    /// <summary>"partition 2" or "the whole disk".</summary>
    public string Describe() => Number == 0 ? "the whole disk" : $"partition {Number}";
}
