using System.Text;

namespace Platform.Engine.Boot.Disk;

/// <summary>
/// Boots a VM from its disk without firmware, as Xen's pygrub does: the VMM reads the disk image (read-only) for a
/// boot configuration, and the kernel, initrd and command line it names are loaded as --kernel/--initrd/--append
/// would be. The partitions are searched in <see cref="PartitionTable.BootSearchOrder"/>; on each, in this order, for
/// Boot Loader Spec entries, an extlinux/syslinux configuration and a grub.cfg; failing all of them on every
/// partition, for Debian's /vmlinuz and /initrd.img links, booted with <c>root=</c> that partition.
/// </summary>
public static class DiskBoot
{
    /// <summary>Configuration files are read whole; none is this large.</summary>
    public const int MaxConfigBytes = 1 << 20;

    /// <summary>Finds the boot entry on the image and reads its kernel and initrds.</summary>
    /// <param name="imagePath">The disk image, raw or qcow2.</param>
    /// <param name="diskIndex">Which disk it is (0 is /dev/vda to the guest), for messages and root=.</param>
    /// <param name="maxBytes">The most the kernel and initrds together may take (the VM's memory).</param>
    /// <param name="format">The disk's <c>format=</c>; null detects it as virtio-blk does.</param>
    /// <exception cref="BootException">Nothing bootable, or a damaged image; the message says which and where.</exception>
    public static DiskBootImage Load(string imagePath, int diskIndex, ulong maxBytes, Platform.Devices.Virtio.Block.DiskImageFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(imagePath);
        ArgumentOutOfRangeException.ThrowIfNegative(diskIndex);
        string name = $"disk {diskIndex}";
        using var disk = DiskReader.Open(imagePath, name, format);
        try
        {
            var found = DiskBootFinder.Find(disk, DeviceName(diskIndex));
            return Read(name, found, (long)Math.Min(maxBytes, (ulong)long.MaxValue));
        }
        catch (Exception ex) when (ex is OverflowException or ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            // A check missed somewhere: still the image's fault, and still a message rather than a crash.
            throw new BootException($"{name}: the image is damaged in a way the reader did not expect ({ex.GetType().Name}: {ex.Message}).", ex);
        }
    }

    /// <summary>The found command line with what --append adds after it.</summary>
    public static string JoinCommandLine(string found, string? appended) =>
        string.IsNullOrWhiteSpace(appended) ? found
        : string.IsNullOrWhiteSpace(found) ? appended.Trim()
        : $"{found} {appended.Trim()}";

    /// <summary>vda, vdb, … as a Linux guest names its virtio disks in PCI order.</summary>
    public static string DeviceName(int diskIndex) =>
        diskIndex < 26 ? $"vd{(char)('a' + diskIndex)}" : $"vd{(char)('a' + (diskIndex / 26) - 1)}{(char)('a' + (diskIndex % 26))}";

    private static DiskBootImage Read(string name, DiskBootFinder.Found found, long maxBytes)
    {
        string where = found.Partition.Number == 0 ? name : $"{name} partition {found.Partition.Number}";
        byte[] kernel;
        byte[] combined;
        try
        {
            (kernel, combined) = ReadFiles(where, found, maxBytes);
        }
        catch (BootException ex) when (!ex.Message.StartsWith(where, StringComparison.Ordinal))
        {
            throw new BootException($"{where}: {ex.Message}", ex);
        }

        var info = new DiskBootInfo(name, found.Partition, found.Partition.DevicePath(found.DiskDevice), found.FileSystem.Kind, found.Entry.Source,
            found.KernelPath, kernel.Length, found.InitrdPaths, combined.Length, found.Entry.CommandLine, found.Notes);
        return new DiskBootImage(info, kernel, combined);
    }

    private static (byte[] Kernel, byte[] Initrd) ReadFiles(string where, DiskBootFinder.Found found, long maxBytes)
    {
        const string Limit = "the VM's memory";
        byte[] kernel = found.FileSystem.ReadFile(found.KernelPath, maxBytes, Limit)
            ?? throw new BootException($"{where}: the kernel {found.KernelPath} disappeared while reading");
        long left = maxBytes - kernel.Length;
        var initrds = new List<byte[]>();
        foreach (string path in found.InitrdPaths)
        {
            byte[] initrd = found.FileSystem.ReadFile(path, left, $"what {Limit} leaves after the kernel and earlier initrds")
                ?? throw new BootException($"{where}: the initrd {path} disappeared while reading");
            initrds.Add(initrd);
            long padded = (initrd.Length + 3) & ~3L;
            left -= padded;
        }

        return (kernel, Concatenate(initrds));
    }

    /// <summary>Initrds one after another, each but the last padded to 4 bytes (what GRUB does with several).</summary>
    private static byte[] Concatenate(List<byte[]> initrds)
    {
        if (initrds.Count <= 1)
        {
            return initrds.Count == 0 ? [] : initrds[0];
        }

        long total = initrds.Take(initrds.Count - 1).Sum(i => (i.Length + 3) & ~3L) + initrds[^1].Length;
        byte[] combined = new byte[total];
        long offset = 0;
        foreach (byte[] initrd in initrds)
        {
            initrd.CopyTo(combined, offset);
            offset += (initrd.Length + 3) & ~3L;
        }

        return combined;
    }

    /// <summary>A configuration file's text; invalid UTF-8 becomes replacement characters, which match nothing.</summary>
    internal static string? ReadText(IBootFileSystem fs, string path, int maxBytes = MaxConfigBytes) =>
        fs.ReadFile(path, maxBytes, $"the {SizeText.Of((ulong)maxBytes)} a configuration file may have") is { } bytes
            ? Encoding.UTF8.GetString(bytes)
            : null;
}
