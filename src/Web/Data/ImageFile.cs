namespace Platform.Web.Data;

/// <summary>
/// A file in the image library (kernels, initrds, disk images, ISO images), stored as
/// <c>{DataDirectory}/images/{FileName}</c>; the file name is unique without regard to case.
/// </summary>
public sealed class ImageFile
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public ImageKind Kind { get; set; }

    public required string FileName { get; set; }

    public long SizeBytes { get; set; }

    /// <summary>SHA-256 of the uploaded bytes, lower-case hex.</summary>
    public required string Sha256 { get; set; }

    public DateTimeOffset UploadedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Who uploaded it, whose image-library quota it counts against (null: before quotas).</summary>
    public string? OwnerId { get; set; }

    /// <summary>
    /// Disk images: how the file stores the disk, found at upload (the VMM is then told, never left to guess). Null for
    /// kernels and initrds, and for disks stored before formats were recorded (the VMM detects those).
    /// </summary>
    public ImageFormat? Format { get; set; }

    /// <summary>Disk images: the size the guest sees (a qcow2 image's virtual size, a raw image's length).</summary>
    public long? VirtualSizeBytes { get; set; }

    /// <summary>ISO images: the primary volume descriptor's volume identifier, read at upload ("" when blank; null for other kinds).</summary>
    public string? VolumeLabel { get; set; }
}

/// <summary>A disk image's format, as platform-vmm's <c>format=</c> names it.</summary>
public enum ImageFormat
{
    Raw,
    Qcow2,
}

public enum ImageKind
{
    Kernel,
    Initrd,
    Disk,
    /// <summary>An ISO 9660 image (an installer or any CD/DVD) for a VM's CD-ROM drive; checked for "CD001" at upload.</summary>
    Iso,
}
