namespace Platform.Web.Data;

/// <summary>
/// A file in the image library (kernels, initrds, disk images), stored as
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
}
