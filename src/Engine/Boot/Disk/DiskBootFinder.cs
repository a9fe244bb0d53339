namespace Platform.Engine.Boot.Disk;

/// <summary>
/// Walks a disk's partitions for a boot entry (see <see cref="DiskBoot"/>) and turns the entry's paths into files.
/// A partition that cannot be read (not ext, damaged) is passed over and said why in the final message if nothing
/// else boots; once a configuration is chosen, a kernel or initrd it names that is missing is an error.
/// </summary>
internal static class DiskBootFinder
{
    /// <summary>The chosen entry and its files: the kernel and initrds on <see cref="FileSystem"/>, links resolved.</summary>
    internal sealed record Found(
        string DiskDevice, DiskPartition Partition, IBootFileSystem FileSystem, BootEntry Entry, string KernelPath,
        IReadOnlyList<string> InitrdPaths, IReadOnlyList<string> Notes);

    private sealed record Candidate(DiskPartition Partition, IBootFileSystem? FileSystem, string Status);

    private static readonly (string Kernel, string Initrd)[] DebianLinks = [("/vmlinuz", "/initrd.img"), ("/boot/vmlinuz", "/boot/initrd.img")];

    public static Found Find(DiskReader disk, string diskDevice)
    {
        var table = PartitionTable.Read(disk);
        var notes = new List<string>(table.Notes);
        var candidates = table.BootSearchOrder().Select(p => Open(disk, p)).ToList();
        var statuses = candidates.ToDictionary(c => c.Partition.Number, c => c.Status);
        var damaged = new HashSet<int>();

        foreach (var candidate in candidates.Where(c => c.FileSystem is not null))
        {
            var fs = candidate.FileSystem!;
            var local = new List<string>();
            BootEntry? entry = null;
            try
            {
                entry = FindConfiguration(fs, local);
                statuses[candidate.Partition.Number] = $"{fs.Kind}, no boot configuration";
            }
            catch (BootException ex)
            {
                statuses[candidate.Partition.Number] = ex.Message;
                damaged.Add(candidate.Partition.Number);
            }

            notes.AddRange(local);
            if (entry is not null)
            {
                // Chosen: a kernel or initrd it names that is missing or damaged is the answer, not a reason to look on.
                return Resolve(disk, diskDevice, candidate, candidates, entry, notes);
            }
        }

        foreach (var candidate in candidates.Where(c => c.FileSystem is not null && !damaged.Contains(c.Partition.Number)))
        {
            try
            {
                if (FindDebianLinks(diskDevice, candidate, candidates, notes) is { } found)
                {
                    return found;
                }
            }
            catch (BootException ex)
            {
                statuses[candidate.Partition.Number] = ex.Message;
            }
        }

        string looked = candidates.Count == 0
            ? "it has no partition that could hold one"
            : string.Join("; ", candidates.Select(c => $"{c.Partition.Describe()}: {statuses[c.Partition.Number]}"));
        string extra = notes.Count > 0 ? $" Notes: {string.Join("; ", notes)}." : "";
        throw new BootException(
            $"{disk.Name}: no partition with a boot configuration (Boot Loader Spec entries, extlinux.conf, grub.cfg, or /vmlinuz): {looked}.{extra}");
    }

    private static Candidate Open(DiskReader disk, DiskPartition partition)
    {
        string name = partition.Number == 0 ? disk.Name : $"{disk.Name} partition {partition.Number}";
        try
        {
            var region = new DiskRegion(disk, partition.Start, partition.Length, name);
            if (!Ext4FileSystem.HasMagic(region))
            {
                return new Candidate(partition, null, partition.Role == PartitionRole.EfiSystem
                    ? "an EFI system partition, not ext2/3/4 (FAT is not read)"
                    : partition.Number == 0 ? "neither a partition table nor an ext2/3/4 file system" : "not an ext2/3/4 file system");
            }

            return new Candidate(partition, Ext4FileSystem.Open(region), "ext");
        }
        catch (BootException ex)
        {
            return new Candidate(partition, null, ex.Message);
        }
    }

    /// <summary>Boot Loader Spec entries, then extlinux/syslinux, then GRUB, on one file system.</summary>
    private static BootEntry? FindConfiguration(IBootFileSystem fs, List<string> notes)
    {
        ConfigReader read = path => DiskBoot.ReadText(fs, path);
        if (LoaderSpecEntries.Find(fs, read, notes) is { } bls)
        {
            return bls;
        }

        foreach (string path in ExtlinuxConfig.Paths)
        {
            if (read(path) is { } text && ExtlinuxConfig.Parse(path, text, read, notes) is { } extlinux)
            {
                return extlinux;
            }
        }

        foreach (string path in GrubConfig.Paths)
        {
            if (read(path) is not { } text)
            {
                continue;
            }

            // grubenv beside grub.cfg (GRUB's $prefix) first.
            string beside = ExtlinuxConfig.Folder(path) + "/grubenv";
            var environment = read(beside) is { } env ? GrubEnvironment.Parse(env) : GrubEnvironment.Read(read);
            if (GrubConfig.Parse(path, text, environment, notes) is { } grub)
            {
                return grub;
            }
        }

        return null;
    }

    private static Found Resolve(DiskReader disk, string diskDevice, Candidate found, List<Candidate> candidates, BootEntry entry, List<string> notes)
    {
        var target = found;
        if (entry.RootUuid is { } uuid)
        {
            var match = candidates.FirstOrDefault(c => c.FileSystem?.Uuid == uuid);
            if (match is not null)
            {
                target = match;
            }
            else
            {
                notes.Add($"{entry.Source}: no file system on this disk has UUID {uuid}; the files are looked for beside the configuration");
            }
        }
        else if (entry.RootPartition is { } number && number != found.Partition.Number)
        {
            var match = candidates.FirstOrDefault(c => c.Partition.Number == number && c.FileSystem is not null);
            if (match is not null)
            {
                target = match;
            }
            else
            {
                notes.Add($"{entry.Source}: partition {number} holds no readable file system; the files are looked for beside the configuration");
            }
        }

        var fs = target.FileSystem!;
        string where = target.Partition.Number == 0 ? disk.Name : $"{disk.Name} partition {target.Partition.Number}";
        string kernel = ResolvePath(fs, entry.Kernel, entry.RelativeTo)
            ?? throw new BootException($"{where}: {entry.Source} names the kernel {entry.Kernel}, which is not there (looked for {string.Join(", ", Candidates(entry.Kernel, entry.RelativeTo))}).");
        var initrds = new List<string>();
        foreach (string initrd in entry.Initrds)
        {
            initrds.Add(ResolvePath(fs, initrd, entry.RelativeTo)
                ?? throw new BootException($"{where}: {entry.Source} names the initrd {initrd}, which is not there (looked for {string.Join(", ", Candidates(initrd, entry.RelativeTo))})."));
        }

        return new Found(diskDevice, target.Partition, fs, entry, kernel, initrds, notes);
    }

    private static Found? FindDebianLinks(string diskDevice, Candidate candidate, List<Candidate> candidates, List<string> notes)
    {
        var fs = candidate.FileSystem!;
        foreach (var (kernelLink, initrdLink) in DebianLinks)
        {
            if (fs.ResolveFile(kernelLink) is not { } kernel)
            {
                continue;
            }

            string? initrd = fs.ResolveFile(initrdLink);
            if (initrd is null)
            {
                notes.Add($"{initrdLink} is missing: booting without an initrd");
            }

            // A separate /boot partition has the links but not the system: root= is the partition that has /etc.
            var root = candidate;
            if (fs.ListDirectory("/etc") is null
                && candidates.FirstOrDefault(c => c != candidate && c.FileSystem?.ListDirectory("/etc") is not null) is { } system)
            {
                root = system;
                notes.Add($"{kernelLink} is on {candidate.Partition.Describe()}, which has no /etc; root= is {system.Partition.Describe()}, which has");
            }

            string device = root.Partition.DevicePath(diskDevice);
            var entry = new BootEntry
            {
                Source = $"Debian's {kernelLink} link (no boot configuration)",
                Kernel = kernel,
                Initrds = initrd is null ? [] : [initrd],
                CommandLine = $"root={device} ro console=ttyS0",
            };
            return new Found(diskDevice, candidate.Partition, fs, entry, kernel, entry.Initrds, notes);
        }

        return null;
    }

    /// <summary>The first of <see cref="Candidates"/> that is a file, links resolved.</summary>
    private static string? ResolvePath(IBootFileSystem fs, string path, string? relativeTo) =>
        Candidates(path, relativeTo).Select(fs.ResolveFile).FirstOrDefault(p => p is not null);

    /// <summary>
    /// Where a configuration's path may point: it may be written for a separate /boot partition ("/vmlinuz") or for a
    /// root file system ("/boot/vmlinuz"), and a GRUB device prefix ("(hd0,msdos1)/vmlinuz") only names the partition.
    /// </summary>
    internal static IReadOnlyList<string> Candidates(string path, string? relativeTo)
    {
        string p = path.Trim();
        if (p.StartsWith('(') && p.IndexOf(')', StringComparison.Ordinal) is var close and > 0)
        {
            p = p[(close + 1)..];
        }

        var list = new List<string>();
        if (!p.StartsWith('/'))
        {
            if (relativeTo is not null)
            {
                list.Add(ExtlinuxConfig.Combine(relativeTo, p));
            }

            list.Add("/" + p);
            list.Add("/boot/" + p);
        }
        else if (relativeTo == "/boot")
        {
            list.Add("/boot" + p);
            list.Add(p);
        }
        else
        {
            list.Add(p);
            list.Add("/boot" + p);
        }

        if (p.StartsWith("/boot/", StringComparison.Ordinal))
        {
            list.Add(p[5..]);
        }

        return [.. list.Distinct(StringComparer.Ordinal)];
    }
}
