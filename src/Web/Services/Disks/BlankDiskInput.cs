using Platform.Web.Data;

namespace Platform.Web.Services.Disks;

/// <summary>A new, empty disk of the VM's own (see <see cref="VmDisk.FileName"/>), as the wizard, the Hardware tab and the API ask for one.</summary>
public sealed class BlankDiskInput
{
    /// <summary>The size the guest sees: a whole number of MiB.</summary>
    public long SizeBytes { get; set; } = 8L << 30;

    public ImageFormat Format { get; set; } = ImageFormat.Qcow2;

    public DiskPreallocation Preallocation { get; set; } = DiskPreallocation.Off;
}

/// <summary>The rules of a disk's size, without the host: whole MiB, at least one, at most <see cref="MaxSizeBytes"/>.</summary>
public static class DiskSizeRules
{
    public const long MiB = 1L << 20;

    /// <summary>64 TiB: well past any disk a VM here gets, and far below what qcow2's tables can map.</summary>
    public const long MaxSizeBytes = 64L << 40;

    public static string? Check(long sizeBytes)
    {
        if (sizeBytes < MiB)
        {
            return "A disk is at least 1 MiB (1048576 bytes).";
        }

        if (sizeBytes % MiB != 0)
        {
            return $"A disk's size is a whole number of MiB (1048576 bytes); {sizeBytes} bytes is not. Try {(sizeBytes / MiB + 1) * MiB}.";
        }

        return sizeBytes > MaxSizeBytes ? $"A disk is at most {MaxSizeBytes >> 40} TiB." : null;
    }

    /// <summary>Everything about a blank disk that needs no host.</summary>
    public static string? Check(BlankDiskInput blank) =>
        Check(blank.SizeBytes)
        ?? (!Enum.IsDefined(blank.Format) ? "A new disk's format is qcow2 or raw." : null)
        ?? (!Enum.IsDefined(blank.Preallocation) ? "Preallocation is off, metadata or full." : null)
        ?? (blank.Format == ImageFormat.Raw && blank.Preallocation == DiskPreallocation.Metadata
            ? "A raw disk has no metadata to preallocate: choose off or full." : null);
}
