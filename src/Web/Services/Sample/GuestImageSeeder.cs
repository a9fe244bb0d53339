using Platform.Web.Data;
using Platform.Web.Extensions;
using Platform.Web.Services.Images;

namespace Platform.Web.Services.Sample;

/// <summary>
/// On a dashboard's first start (<c>Platform:SeedSample</c>, which <c>./platform run</c> turns on), puts the guest images
/// scripts/guest-images.sh built — the Debian kernel, the busybox initramfs and the ext4 disk — into the image library,
/// so the library is not empty on the first day and a new VM can boot them without a host path. Copied in the
/// background (the disk is sparse-copied) through <see cref="ImageLibrary.UploadAsync"/>, as an upload would be; once
/// per data folder, so images deleted from the library stay deleted.
/// </summary>
internal sealed partial class GuestImageSeeder(ImageLibrary library, PlatformOptions options, IConfiguration configuration, ILogger<GuestImageSeeder> logger)
    : BackgroundService
{
    public const string MarkerFileName = "guest-images-seeded";

    /// <summary>The files guest-images.sh makes, and the library's name and kind for each.</summary>
    internal static readonly IReadOnlyList<(string File, string LibraryName, ImageKind Kind)> GuestImages =
    [
        ("vmlinuz", "debian-vmlinuz", ImageKind.Kernel),
        ("initramfs.cpio.gz", "debian-initramfs.cpio.gz", ImageKind.Initrd),
        ("rootfs.ext4", "debian-rootfs.ext4", ImageKind.Disk),
    ];

    /// <summary>Where guest-images.sh puts its images: <c>$PLATFORM_CACHE_DIR/images</c>, by default <c>~/.cache/platform/images</c>.</summary>
    public static string ImagesFolder() => Path.Combine(
        Environment.GetEnvironmentVariable("PLATFORM_CACHE_DIR") is { Length: > 0 } cache ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "platform"),
        "images");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string marker = Path.Combine(options.DataDirectory, MarkerFileName);
        if (!configuration.GetValue("Platform:SeedSample", false) || File.Exists(marker))
        {
            return;
        }

        var added = await SeedAsync(library, ImagesFolder(), logger, stoppingToken);
        await File.WriteAllTextAsync(marker, DateTimeOffset.UtcNow.ToString("O") + "\n", stoppingToken);
        Log.Done(logger, added.Count, ImagesFolder());
    }

    /// <summary>Adds each guest image found in <paramref name="folder"/> that the library has no file of that name for; the names added.</summary>
    internal static async Task<IReadOnlyList<string>> SeedAsync(ImageLibrary library, string folder, ILogger logger, CancellationToken cancellationToken)
    {
        var present = (await library.ListAsync(cancellationToken)).Select(u => u.Image.FileName).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var added = new List<string>();
        foreach (var (file, name, kind) in GuestImages)
        {
            string path = Path.Combine(folder, file);
            if (!File.Exists(path) || present.Contains(name))
            {
                continue;
            }

            await using var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            var result = await library.UploadAsync(kind, name, content, null, null, cancellationToken);
            if (result.Succeeded)
            {
                added.Add(name);
            }
            else
            {
                Log.Failed(logger, path, result.Message ?? string.Join(" ", result.Errors.SelectMany(e => e.Value)));
            }
        }

        return added;
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Added {Count} guest images from {Folder} to the image library")]
        public static partial void Done(ILogger logger, int count, string folder);

        [LoggerMessage(LogLevel.Warning, "Could not add the guest image {Path} to the library: {Reason}")]
        public static partial void Failed(ILogger logger, string path, string reason);
    }
}
