namespace Platform.Web.Extensions;

/// <summary>Settings under <c>Platform:</c> in configuration (appsettings.json, PLATFORM__* variables).</summary>
public sealed class PlatformOptions
{
    public const string Section = "Platform";

    /// <summary>Where the database, the image library (<c>images/</c>) and VM runtime folders live.</summary>
    public string DataDirectory { get; set; } =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "platform");

    /// <summary>The largest image the library accepts, in bytes (64 GiB unless configured).</summary>
    public long MaxImageSizeBytes { get; set; } = 64L << 30;

    /// <summary>
    /// Room an upload leaves free on the disk holding the data folder (1 GiB unless configured): the database, logs and
    /// VMs' disks need it more than one more image does.
    /// </summary>
    public long MinFreeBytes { get; set; } = 1L << 30;

    /// <summary>The image library's folder.</summary>
    public string ImagesDirectory => Path.Combine(DataDirectory, "images");

    /// <summary>VMs' own disk files: the qcow2 overlays of linked clones, one folder per VM.</summary>
    public string DisksDirectory => Path.Combine(DataDirectory, "disks");
}
