namespace Platform.Web.Services;

/// <summary>
/// Keeps the data folder private to the dashboard's user: the database holds password and token hashes, the images
/// and disks the guests' data. Folders become 0700 and files 0600, on the first start and on every start after (which
/// also mends an older install's 0755 folder and 0644 database). Links are left alone; a VMM's socket keeps its
/// owner's read and write, all connecting needs.
/// </summary>
public static class DataFolderPermissions
{
    public const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates <paramref name="dataDirectory"/> if needed and makes everything in it owner-only.</summary>
    public static void Secure(string dataDirectory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        Directory.CreateDirectory(dataDirectory, Folder);
        SecureFolder(new DirectoryInfo(dataDirectory));
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static void SecureFolder(DirectoryInfo folder)
    {
        if (folder.UnixFileMode != Folder)
        {
            folder.UnixFileMode = Folder;
        }

        foreach (var entry in folder.EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null)
            {
                continue;
            }

            if (entry is DirectoryInfo child)
            {
                SecureFolder(child);
            }
            else if (entry is FileInfo file && (file.UnixFileMode & ~File) != 0)
            {
                // Only ever taking rights away: a file made read-only on purpose stays so.
                file.UnixFileMode &= File;
            }
        }
    }
}
