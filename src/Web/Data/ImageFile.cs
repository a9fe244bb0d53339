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
}

public enum ImageKind
{
    Kernel,
    Initrd,
    Disk,
}
