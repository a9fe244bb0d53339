namespace Platform.Engine.Boot.Disk;

/// <summary>
/// What finding and loading a boot entry needs of a partition's file system: read-only, by absolute path, symbolic
/// links followed. Implementations check every structure they read and throw <see cref="BootException"/> on
/// corruption; a missing file is null, not an error.
/// </summary>
internal interface IBootFileSystem
{
    /// <summary>"ext2", "ext3" or "ext4".</summary>
    string Kind { get; }

    /// <summary>The file system's UUID (what <c>root=UUID=…</c> and GRUB's <c>search --fs-uuid</c> name).</summary>
    Guid Uuid { get; }

    /// <summary>Where <paramref name="path"/> leads once its symbolic links are followed, if a regular file is there.</summary>
    string? ResolveFile(string path);

    /// <summary>The file's bytes, or null when no regular file is there.</summary>
    /// <param name="limit">Says in words where <paramref name="maxBytes"/> comes from, for the message when the file is larger.</param>
    byte[]? ReadFile(string path, long maxBytes, string limit);

    /// <summary>The names in a directory (without "." and ".."), or null when no directory is there.</summary>
    IReadOnlyList<string>? ListDirectory(string path);
}
