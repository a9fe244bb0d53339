namespace Platform.Engine.Boot.Disk;

/// <summary>
/// The Linux kernel a boot configuration chose, as the configuration writes it: paths are still the configuration's
/// (relative to the partition it lives on, perhaps to its folder); the finder turns them into files.
/// </summary>
internal sealed record BootEntry
{
    /// <summary>Where it came from, in words: "GRUB /boot/grub/grub.cfg, entry 'Debian GNU/Linux'".</summary>
    public required string Source { get; init; }

    /// <summary>The kernel's path as written.</summary>
    public required string Kernel { get; init; }

    /// <summary>The initrds' paths as written, loaded one after another (Linux unpacks concatenated cpio archives).</summary>
    public IReadOnlyList<string> Initrds { get; init; } = [];

    public string CommandLine { get; init; } = "";

    /// <summary>The folder a relative path is relative to (extlinux: the configuration's own); null: the file system's root.</summary>
    public string? RelativeTo { get; init; }

    /// <summary>GRUB: the file system its <c>search --fs-uuid --set=root</c> names.</summary>
    public Guid? RootUuid { get; init; }

    /// <summary>GRUB: the partition its <c>set root='hd0,gpt2'</c> or a <c>(hd0,msdos1)</c> prefix names.</summary>
    public int? RootPartition { get; init; }

    /// <summary>What could not be evaluated or was chosen by a fallback, for the user to read.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>A configuration file's text, read from the partition being searched; null when it is not there.</summary>
internal delegate string? ConfigReader(string path);
