using Platform.Web.Data;
using Platform.Web.Extensions;
using Platform.Web.Services.Images;

namespace Platform.Web.Services.Disks;

/// <summary>
/// The disk files a VM owns: where they live (<c>{DataDirectory}/disks/{vm id}/</c>, beside its linked-clone overlays),
/// making blank ones after checking the data folder's free space, describing any disk file, and deleting them.
/// </summary>
public sealed class VmDiskFiles(PlatformOptions options, IDiskImageTool tool, ILogger<VmDiskFiles> logger)
{
    public IDiskImageTool Tool => tool;

    public string FolderOf(Guid vmId) => Path.Combine(options.DisksDirectory, vmId.ToString("N"));

    /// <summary>The file of an own disk (<see cref="VmDisk.FileName"/> set).</summary>
    public string PathOf(VmDisk disk)
    {
        ArgumentNullException.ThrowIfNull(disk);
        return Path.Combine(FolderOf(disk.VirtualMachineId), disk.FileName ?? throw new InvalidOperationException("Not a disk of the VM's own."));
    }

    /// <summary>The name a new own disk's file gets: its row's id and format, so it is never reused.</summary>
    public static string FileNameFor(Guid diskId, ImageFormat format) => $"{diskId:N}.{ImageLibrary.FormatName(format)}";

    /// <summary>Bytes free to the dashboard on the data folder's file system.</summary>
    public long AvailableBytes()
    {
        Directory.CreateDirectory(options.DataDirectory);
        // On Linux DriveInfo asks statvfs(2) about whatever path it is given; f_bavail is what an unprivileged writer gets.
        return new DriveInfo(options.DataDirectory).AvailableFreeSpace;
    }

    /// <summary>
    /// Null when <paramref name="sizeBytes"/> more fit on the data folder's file system; else the reason. The whole virtual
    /// size is counted, preallocated or not: a thin disk the file system cannot hold fails the guest's writes later, at the
    /// worst time, so the dashboard does not overcommit the disk it lives on.
    /// </summary>
    public string? CheckSpace(long sizeBytes)
    {
        long free = AvailableBytes();
        return sizeBytes > free
            ? $"The data folder's file system has {ImageLibrary.FormatSize(free)} free; {ImageLibrary.FormatSize(sizeBytes)} of disk does not fit."
            : null;
    }

    /// <summary>Makes a blank disk for <paramref name="disk"/> (its <see cref="VmDisk.FileName"/> set); the path made.</summary>
    public string CreateBlank(VmDisk disk, BlankDiskInput blank)
    {
        ArgumentNullException.ThrowIfNull(blank);
        string path = PathOf(disk);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        tool.Create(path, blank.SizeBytes, blank.Format, blank.Preallocation);
        logger.LogInformation("Created disk {Path} ({Format}, {Size} bytes, preallocation {Preallocation})", path, blank.Format, blank.SizeBytes, blank.Preallocation);
        return path;
    }

    /// <summary>Deletes own-disk files (after their rows are gone); a failure is logged, not thrown.</summary>
    public void Delete(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        foreach (string path in paths)
        {
            try
            {
                File.Delete(path);
                logger.LogInformation("Deleted disk {Path}", path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(ex, "Could not delete disk {Path}", path);
            }
        }
    }

    /// <summary>The facts of a disk file, or null with the reason when it cannot be read.</summary>
    public DiskFileFacts? TryDescribe(string path, out string? problem)
    {
        problem = null;
        try
        {
            return tool.Describe(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = ex.Message;
            return null;
        }
    }
}
