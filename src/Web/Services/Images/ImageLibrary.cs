using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Platform.Devices.Storage.Ahci;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Qcow2;
using Platform.Web.Data;
using Platform.Web.Extensions;
using Platform.Web.Services.Tasks;

namespace Platform.Web.Services.Images;

/// <summary>An image with the names of the VMs that use it (as kernel, initrd, disk or in a CD-ROM drive).</summary>
public sealed record ImageUsage(ImageFile Image, IReadOnlyList<string> UsedBy);

/// <summary>
/// The image library: kernels, initrds, disk images and ISO images stored as files under <see cref="PlatformOptions.ImagesDirectory"/>
/// with a row each (size, SHA-256). Uploads stream to a temporary file while hashing, so no image is ever held in
/// memory, and become visible only once complete and flushed. An image a VM uses cannot be deleted — a linked clone's
/// base included. Disk images are raw or qcow2: the format is detected and the image checked at upload as a VM would
/// open it (a corrupt or unsupported qcow2 image is refused with the reason, and so is one that names a backing file,
/// which could point at any host file). ISO images must be ISO 9660 ("CD001" at byte 32769), their volume label is
/// recorded. Linked clones are qcow2 overlays under
/// <see cref="PlatformOptions.DisksDirectory"/> whose backing file is the library image.
/// </summary>
public sealed class ImageLibrary(IDbContextFactory<PlatformDbContext> dbFactory, PlatformOptions options, ITaskLog tasks, ILogger<ImageLibrary> logger,
    Quotas.QuotaService? quotas = null)
{
    private const int BufferSize = 1 << 20;

    public long MaxImageSizeBytes => options.MaxImageSizeBytes;

    public string PathOf(ImageFile image) => Path.Combine(options.ImagesDirectory, image.FileName);

    public async Task<IReadOnlyList<ImageUsage>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var images = await db.Images.AsNoTracking().OrderBy(i => i.FileName).ToListAsync(cancellationToken);
        var users = await UsersAsync(db, null, cancellationToken);
        return images.Select(i => new ImageUsage(i, users.TryGetValue(i.Id, out var names) ? names : [])).ToList();
    }

    public async Task<ImageUsage?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (image is null)
        {
            return null;
        }

        var users = await UsersAsync(db, id, cancellationToken);
        return new ImageUsage(image, users.TryGetValue(id, out var names) ? names : []);
    }

    /// <summary>
    /// Stores <paramref name="content"/> as <paramref name="fileName"/>. Fails Invalid for a bad name, an empty
    /// file or a checksum that does not match <paramref name="expectedSha256"/>; TooLarge past the limit (the
    /// stream is not read further); Conflict when the name is taken; Forbidden past the image-library quota of
    /// <paramref name="ownerId"/> (the uploader, whose quota the image counts against). <paramref name="progress"/> hears
    /// bytes stored so far.
    /// </summary>
    public async Task<ServiceResult<ImageFile>> UploadAsync(
        ImageKind kind, string fileName, Stream content, string? expectedSha256, IProgress<long>? progress, CancellationToken cancellationToken,
        string? ownerId = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var task = tasks.Begin(TaskActions.ImageUpload, null, fileName);
        task.Log($"Upload {fileName} ({kind.ToString().ToLowerInvariant()}) into the library{(DeclaredLength(content) is { } length ? $", {FormatSize(length)}" : "")}");
        try
        {
            var result = await UploadCoreAsync(kind, fileName, content, expectedSha256, progress, ownerId, cancellationToken);
            if (result.Value is { } stored)
            {
                task.Log($"Stored {FormatSize(stored.SizeBytes)}, SHA-256 {stored.Sha256}"
                    + (stored.Format is { } format ? $", {FormatName(format)} disk of {FormatSize(stored.VirtualSizeBytes ?? 0)}" : ""));
            }

            return task.End(result, $"stored {fileName}");
        }
        catch (OperationCanceledException)
        {
            task.Cancel("The upload was called off before it finished; nothing was stored.");
            throw;
        }
    }

    private async Task<ServiceResult<ImageFile>> UploadCoreAsync(
        ImageKind kind, string fileName, Stream content, string? expectedSha256, IProgress<long>? progress, string? ownerId, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (ImageFileNameRules.Check(fileName) is { } nameProblem)
        {
            errors["fileName"] = [nameProblem];
        }

        if (!Enum.IsDefined(kind))
        {
            errors["kind"] = ["The kind is kernel, initrd, disk or iso."];
        }

        string? expected = expectedSha256?.Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(expected) && (expected.Length != 64 || !expected.All(char.IsAsciiHexDigit)))
        {
            errors["sha256"] = ["A SHA-256 checksum is 64 hex digits."];
        }

        if (errors.Count > 0)
        {
            return ServiceResult<ImageFile>.Invalid(errors);
        }

        if (await NameTakenAsync(fileName, cancellationToken))
        {
            return ServiceResult<ImageFile>.Fail(ServiceStatus.Conflict, $"The library already has an image named {fileName}.");
        }

        Directory.CreateDirectory(options.ImagesDirectory);
        if (NoRoom(DeclaredLength(content) ?? 0) is { } full)
        {
            return full;
        }

        string temporary = Path.Combine(options.ImagesDirectory, $".upload-{Guid.NewGuid():N}");
        string final = Path.Combine(options.ImagesDirectory, fileName);
        try
        {
            long size;
            string sha256;
            await using (var file = new FileStream(temporary, NewImageFile()))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[BufferSize];
                var sparse = new SparseFileWriter(file);
                long checkedAt = 0;
                size = 0;
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    size += read;
                    if (size > options.MaxImageSizeBytes)
                    {
                        return ServiceResult<ImageFile>.Fail(ServiceStatus.TooLarge,
                            $"The image is larger than the limit of {FormatSize(options.MaxImageSizeBytes)}.");
                    }

                    hash.AppendData(buffer, 0, read);
                    await sparse.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    if (sparse.WrittenBytes - checkedAt >= FreeSpaceCheckBytes)
                    {
                        // The disk fills as the upload goes (and others write too): look again now and then.
                        checkedAt = sparse.WrittenBytes;
                        if (NoRoom(0) is { } filled)
                        {
                            return filled;
                        }
                    }

                    progress?.Report(size);
                }

                sparse.Complete();

                // Visible in the library only once it is on disk for good.
                file.Flush(flushToDisk: true);
                sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            if (size == 0)
            {
                return ServiceResult<ImageFile>.Invalid(new Dictionary<string, string[]> { ["file"] = ["The file is empty."] });
            }

            if (!string.IsNullOrEmpty(expected) && expected != sha256)
            {
                return ServiceResult<ImageFile>.Invalid(new Dictionary<string, string[]>
                {
                    ["sha256"] = [$"The upload's SHA-256 is {sha256}, not {expected}: the file changed on the way. Try again."],
                });
            }

            if (quotas is not null && await quotas.CheckAsync(ownerId, new Quotas.QuotaAmounts(ImageBytes: size), "this image", cancellationToken) is { } refused)
            {
                return ServiceResult<ImageFile>.Fail(ServiceStatus.Forbidden, refused);
            }

            ImageFormat? format = null;
            long? virtualSize = null;
            string? volumeLabel = null;
            if (kind == ImageKind.Disk)
            {
                if (InspectDisk(temporary, fileName, out string? problem) is not { } disk)
                {
                    return ServiceResult<ImageFile>.Invalid(new Dictionary<string, string[]> { ["file"] = [problem!] });
                }

                (format, virtualSize) = disk;
            }
            else if (kind == ImageKind.Iso)
            {
                // Opened as the VMM's CD-ROM drive opens it, so what the library takes, a drive takes.
                if (InspectIso(temporary, fileName, out string? problem) is not { } label)
                {
                    return ServiceResult<ImageFile>.Invalid(new Dictionary<string, string[]> { ["file"] = [problem!] });
                }

                volumeLabel = label;
            }

            try
            {
                File.Move(temporary, final, overwrite: false);
            }
            catch (IOException) when (File.Exists(final))
            {
                return ServiceResult<ImageFile>.Fail(ServiceStatus.Conflict,
                    $"A file named {fileName} is already in the images folder; pick another name.");
            }

            var image = new ImageFile
            {
                Kind = kind, FileName = fileName, SizeBytes = size, Sha256 = sha256, Format = format, VirtualSizeBytes = virtualSize,
                VolumeLabel = volumeLabel, OwnerId = ownerId,
            };
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                db.Images.Add(image);
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                File.Delete(final);
                return ServiceResult<ImageFile>.Fail(ServiceStatus.Conflict, $"The library already has an image named {fileName}.");
            }

            logger.LogInformation("Stored image {FileName} ({Kind}, {Size} bytes, sha256 {Sha256})", fileName, kind, size, sha256);
            return ServiceResult<ImageFile>.Ok(image);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    /// <summary>Removes the image's row and file; Conflict (naming the VMs) while any VM uses it.</summary>
    public async Task<ServiceResult> DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.Images.FirstOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (image is null)
        {
            return ServiceResult.Fail(ServiceStatus.NotFound, "There is no such image.");
        }

        var users = await UsersAsync(db, id, cancellationToken);
        if (users.TryGetValue(id, out var names) && names.Count > 0)
        {
            return ServiceResult.Fail(ServiceStatus.Conflict,
                $"{image.FileName} is used by {string.Join(", ", names)}; remove it from {(names.Count == 1 ? "that VM" : "those VMs")} first.");
        }

        db.Images.Remove(image);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A VM started using it between the check and the delete; the foreign key kept the row.
            return ServiceResult.Fail(ServiceStatus.Conflict, $"{image.FileName} has just been put to use by a VM.");
        }

        File.Delete(PathOf(image));
        logger.LogInformation("Deleted image {FileName}", image.FileName);
        return ServiceResult.Ok();
    }

    /// <summary>Where a linked-clone disk's overlay lives: per VM, named by the disk and its base (a new base, a new overlay).</summary>
    public string LinkedClonePath(VmDisk disk)
    {
        ArgumentNullException.ThrowIfNull(disk);
        return Path.Combine(options.DisksDirectory, disk.VirtualMachineId.ToString("N"), $"{disk.Id:N}-{disk.ImageId:N}.qcow2");
    }

    /// <summary>
    /// The overlay of a linked-clone disk (its <see cref="VmDisk.Image"/> loaded), created on first use: a qcow2 image of
    /// the base's virtual size whose backing file is the library image, named relative to the overlay so the data
    /// folder can move. Throws <see cref="IOException"/> with the reason when it cannot be made.
    /// </summary>
    public string EnsureLinkedClone(VmDisk disk)
    {
        ArgumentNullException.ThrowIfNull(disk);
        var image = disk.Image ?? throw new InvalidOperationException("The disk's image is not loaded.");
        string overlay = LinkedClonePath(disk);
        if (File.Exists(overlay))
        {
            return overlay;
        }

        using var task = tasks.Begin(TaskActions.LinkedClone, disk.VirtualMachineId, $"disk {disk.Position} from {image.FileName}");
        task.Log($"Overlay {overlay} over {image.FileName}");
        try
        {
            MakeOverlay(image, overlay);
        }
        catch (Exception ex)
        {
            // Whatever it was goes on to the caller (a start, a resize) as before; the task says it too.
            task.Fail(ex.Message);
            throw;
        }

        task.Succeed($"made the linked clone of {image.FileName}");
        logger.LogInformation("Created linked clone {Overlay} of {Image}", overlay, image.FileName);
        return overlay;
    }

    private void MakeOverlay(ImageFile image, string overlay)
    {
        string folder = Path.GetDirectoryName(overlay)!;
        Directory.CreateDirectory(folder);
        string basePath = PathOf(image);
        var format = image.Format is { } known ? ToDevices(known) : DiskImageProbe.Detect(basePath);
        long size = image.VirtualSizeBytes ?? DiskImages.Describe(basePath, format, allowBackingFile: false).VirtualSize;
        size -= size % 512; // a raw image's odd tail is not a whole sector: no guest sees it anyway
        if (size <= 0)
        {
            throw new IOException($"{image.FileName} is smaller than one sector; it cannot be a disk.");
        }

        // Made under a temporary name and moved into place, so a half-made overlay is never taken for the VM's disk.
        string temporary = Path.Combine(folder, $".new-{Guid.NewGuid():N}.qcow2");
        try
        {
            Qcow2Creator.Create(temporary, size, Path.GetRelativePath(folder, basePath), format);
            File.Move(temporary, overlay);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// Deletes a VM's linked-clone overlays (after the VM is deleted), and its folder once nothing else is in it: the VM's
    /// own disks (<c>{disk}.qcow2</c>, no '-') share the folder and go or stay by their own rule.
    /// </summary>
    public void DeleteLinkedClones(Guid vmId)
    {
        string folder = Path.Combine(options.DisksDirectory, vmId.ToString("N"));
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (string overlay in Directory.EnumerateFiles(folder, "*-*.qcow2"))
        {
            File.Delete(overlay);
        }

        if (!Directory.EnumerateFileSystemEntries(folder).Any())
        {
            Directory.Delete(folder);
        }
    }

    /// <summary>platform-vmm's name for a format (its <c>format=</c>).</summary>
    public static string FormatName(ImageFormat format) => format == ImageFormat.Qcow2 ? "qcow2" : "raw";

    /// <summary>
    /// A disk image's format and virtual size, opened read-only as a VM would open it; null with the reason when it is
    /// corrupt, unsupported or names a backing file (messages name the upload, not its temporary file).
    /// </summary>
    internal static (ImageFormat Format, long VirtualSize)? InspectDisk(string path, string fileName, out string? problem)
    {
        problem = null;
        try
        {
            var description = DiskImages.Describe(path, allowBackingFile: false);
            return (description.Format == DiskImageFormat.Qcow2 ? ImageFormat.Qcow2 : ImageFormat.Raw, description.VirtualSize);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = ex.Message.Replace(path, fileName, StringComparison.Ordinal);
            return null;
        }
    }

    /// <summary>
    /// An ISO 9660 image's volume label, read as the VMM's CD-ROM drive reads the image (<see cref="IsoImage.Open"/>: the
    /// primary volume descriptor's "CD001" at byte 32769); null with the reason when it is not one.
    /// </summary>
    internal static string? InspectIso(string path, string fileName, out string? problem)
    {
        problem = null;
        try
        {
            using var iso = IsoImage.Open(path);
            return iso.VolumeLabel;
        }
        catch (IsoImageException ex)
        {
            problem = ex.Message.Replace(path, fileName, StringComparison.Ordinal);
            return null;
        }
    }

    private static DiskImageFormat ToDevices(ImageFormat format) => format == ImageFormat.Qcow2 ? DiskImageFormat.Qcow2 : DiskImageFormat.Raw;

    /// <summary>"a kernel", "an initrd", "a disk image".</summary>
    public static string Describe(ImageKind kind) => kind switch
    {
        ImageKind.Kernel => "a kernel",
        ImageKind.Initrd => "an initrd",
        ImageKind.Iso => "an ISO image",
        _ => "a disk image",
    };

    /// <summary>How much an upload writes between two looks at the free space.</summary>
    private const long FreeSpaceCheckBytes = 64L << 20;

    /// <summary>How an upload's file is opened: owner-only from its creation, like the rest of the data folder.</summary>
    private static FileStreamOptions NewImageFile()
    {
        var file = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = BufferSize, Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            file.UnixCreateMode = DataFolderPermissions.File;
        }

        return file;
    }

    /// <summary>The size the stream says it has (a browser's file does), or null.</summary>
    private static long? DeclaredLength(Stream content)
    {
        try
        {
            return content.Length;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The refusal when writing <paramref name="more"/> bytes would leave less than the reserve free; null when there is room.</summary>
    private ServiceResult<ImageFile>? NoRoom(long more)
    {
        long free = new DriveInfo(options.ImagesDirectory).AvailableFreeSpace;
        if (free - more >= options.MinFreeBytes)
        {
            return null;
        }

        string need = more > 0 ? $"this upload needs up to {FormatSize(more)} and " : "";
        return ServiceResult<ImageFile>.Fail(ServiceStatus.NoSpace,
            $"Not enough free space for the image: the disk holding {options.ImagesDirectory} has {FormatSize(free)} free, {need}"
            + $"{FormatSize(options.MinFreeBytes)} must stay free (Platform:MinFreeBytes). Free some space (delete unused images) and try again.");
    }

    public static string FormatSize(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.##} KiB",
        _ => $"{bytes} bytes",
    };

    private async Task<bool> NameTakenAsync(string fileName, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Images.AnyAsync(i => i.FileName == fileName, cancellationToken);
    }

    /// <summary>VM names by image id, for one image or all.</summary>
    private static async Task<Dictionary<Guid, List<string>>> UsersAsync(PlatformDbContext db, Guid? imageId, CancellationToken cancellationToken)
    {
        var pairs = new List<(Guid ImageId, string Vm)>();
        var boot = await db.VirtualMachines.AsNoTracking().IgnoreAutoIncludes()
            .Where(vm => vm.KernelImageId != null || vm.InitrdImageId != null || vm.CdromImageId != null)
            .Select(vm => new { vm.Name, vm.KernelImageId, vm.InitrdImageId, vm.CdromImageId })
            .ToListAsync(cancellationToken);
        foreach (var vm in boot)
        {
            if (vm.KernelImageId is { } k)
            {
                pairs.Add((k, vm.Name));
            }

            if (vm.InitrdImageId is { } i)
            {
                pairs.Add((i, vm.Name));
            }

            // A disc in a drive is in use: the running VMM has it open, and the next start would not find it.
            if (vm.CdromImageId is { } iso)
            {
                pairs.Add((iso, vm.Name));
            }
        }

        var disks = await db.VmDisks.AsNoTracking().Where(d => d.ImageId != null)
            .Join(db.VirtualMachines.IgnoreAutoIncludes(), d => d.VirtualMachineId, vm => vm.Id, (d, vm) => new { d.ImageId, vm.Name })
            .ToListAsync(cancellationToken);
        pairs.AddRange(disks.Select(d => (d.ImageId!.Value, d.Name)));

        return pairs.Where(p => imageId is null || p.ImageId == imageId)
            .GroupBy(p => p.ImageId)
            .ToDictionary(g => g.Key, g => g.Select(p => p.Vm).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList());
    }
}
