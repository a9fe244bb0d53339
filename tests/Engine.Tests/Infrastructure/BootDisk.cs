using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Platform.Engine.Boot.Disk;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>
/// A raw disk image built at test time as an installer would: a partition table written here (MBR or GPT, with a
/// protective MBR and a backup GPT), and ext2/3/4 file systems made by Debian's mke2fs straight into each partition
/// (<c>-E offset=</c>) from a folder (<c>-d</c>). Deleted on dispose.
/// </summary>
public sealed class BootDisk : IDisposable
{
    public const int Sector = 512;

    /// <summary>First partitions start at 1 MiB, as fdisk and parted align them.</summary>
    public const long FirstPartitionSector = 2048;

    public BootDisk(long bytes)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"bootdisk-{Guid.NewGuid():N}.img");
        using var file = File.Create(Path);
        file.SetLength(bytes);
    }

    public string Path { get; }

    public long Length => new FileInfo(Path).Length;

    /// <summary>One partition to write: sectors, and the MBR type byte or the GPT type GUID.</summary>
    public sealed record Part(long FirstSector, long Sectors, byte MbrType = 0x83, Guid? GptType = null, bool Bootable = false, string Name = "")
    {
        public long Offset => FirstSector * Sector;

        public long Bytes => Sectors * Sector;
    }

    public static readonly Guid LinuxData = new("0fc63daf-8483-4772-8e79-3d69d8477de4");
    public static readonly Guid EfiSystem = new("c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
    public static readonly Guid LinuxSwap = new("0657fd6d-a4ab-43c4-84e5-0933c84b4f4f");

    /// <summary>An MBR with up to four primary partitions.</summary>
    public void WriteMbr(params Part[] parts)
    {
        byte[] mbr = new byte[Sector];
        for (int i = 0; i < parts.Length; i++)
        {
            WriteMbrEntry(mbr, i, parts[i].Bootable ? (byte)0x80 : (byte)0, parts[i].MbrType, (uint)parts[i].FirstSector, (uint)parts[i].Sectors);
        }

        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        WriteAt(0, mbr);
    }

    /// <summary>Primary partitions, then an extended one holding <paramref name="logical"/> partitions (Linux numbers them from 5).</summary>
    public void WriteMbrWithLogical(Part[] primary, params Part[] logical)
    {
        byte[] mbr = new byte[Sector];
        for (int i = 0; i < primary.Length; i++)
        {
            WriteMbrEntry(mbr, i, primary[i].Bootable ? (byte)0x80 : (byte)0, primary[i].MbrType, (uint)primary[i].FirstSector, (uint)primary[i].Sectors);
        }

        // Each logical partition has an EBR one MiB before it; the extended partition spans them all.
        long extendedStart = logical[0].FirstSector - FirstPartitionSector;
        long extendedEnd = logical[^1].FirstSector + logical[^1].Sectors;
        WriteMbrEntry(mbr, primary.Length, 0, 0x05, (uint)extendedStart, (uint)(extendedEnd - extendedStart));
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        WriteAt(0, mbr);
        for (int i = 0; i < logical.Length; i++)
        {
            long ebr = logical[i].FirstSector - FirstPartitionSector;
            byte[] sector = new byte[Sector];
            WriteMbrEntry(sector, 0, 0, logical[i].MbrType, (uint)(logical[i].FirstSector - ebr), (uint)logical[i].Sectors);
            if (i + 1 < logical.Length)
            {
                long next = logical[i + 1].FirstSector - FirstPartitionSector;
                WriteMbrEntry(sector, 1, 0, 0x05, (uint)(next - extendedStart), (uint)(logical[i + 1].FirstSector + logical[i + 1].Sectors - next));
            }

            sector[510] = 0x55;
            sector[511] = 0xAA;
            WriteAt(ebr * Sector, sector);
        }
    }

    /// <summary>A GPT (128 entries of 128 bytes at LBA 2, backup at the end) behind a protective MBR; entry i is partition i+1.</summary>
    public void WriteGpt(params Part?[] parts)
    {
        long sectors = Length / Sector;
        byte[] protective = new byte[Sector];
        WriteMbrEntry(protective, 0, 0, 0xEE, 1, (uint)Math.Min(sectors - 1, uint.MaxValue));
        protective[510] = 0x55;
        protective[511] = 0xAA;
        WriteAt(0, protective);

        byte[] entries = new byte[128 * 128];
        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i] is not { } p)
            {
                continue;
            }

            var e = entries.AsSpan(i * 128, 128);
            (p.GptType ?? LinuxData).TryWriteBytes(e);
            Guid.NewGuid().TryWriteBytes(e[16..]);
            BinaryPrimitives.WriteUInt64LittleEndian(e[32..], (ulong)p.FirstSector);
            BinaryPrimitives.WriteUInt64LittleEndian(e[40..], (ulong)(p.FirstSector + p.Sectors - 1));
            BinaryPrimitives.WriteUInt64LittleEndian(e[48..], p.Bootable ? 4ul : 0ul);
            Encoding.Unicode.GetBytes(p.Name).CopyTo(e[56..]);
        }

        uint entriesCrc = Crc32.Compute(entries);
        long backupEntries = sectors - 1 - 32;
        WriteAt(2 * Sector, entries);
        WriteAt(backupEntries * Sector, entries);
        WriteAt(Sector, GptHeader(1, sectors - 1, 2, sectors, entriesCrc));
        WriteAt((sectors - 1) * Sector, GptHeader(sectors - 1, 1, backupEntries, sectors, entriesCrc));
    }

    private static byte[] GptHeader(long myLba, long alternateLba, long entriesLba, long sectors, uint entriesCrc)
    {
        byte[] header = new byte[Sector];
        "EFI PART"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), 0x0001_0000);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), 92);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), (ulong)myLba);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(32), (ulong)alternateLba);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(40), 34);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(48), (ulong)(sectors - 34));
        Guid.NewGuid().TryWriteBytes(header.AsSpan(56));
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(72), (ulong)entriesLba);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(80), 128);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(84), 128);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(88), entriesCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), Crc32.Compute(header.AsSpan(0, 92)));
        return header;
    }

    private static void WriteMbrEntry(Span<byte> sector, int index, byte status, byte type, uint first, uint count)
    {
        var e = sector.Slice(446 + (index * 16), 16);
        e[0] = status;
        e[4] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(e[8..], first);
        BinaryPrimitives.WriteUInt32LittleEndian(e[12..], count);
    }

    /// <summary>mke2fs into the partition from <paramref name="sourceDirectory"/>; <paramref name="options"/> go before the device (e.g. -t ext2, -O ^extent, -b 1024).</summary>
    public void Format(Part part, string sourceDirectory, params string[] options) => Format(part.Offset, part.Bytes, sourceDirectory, options);

    /// <summary>mke2fs over the whole disk (no partition table), as Firecracker's root images are made.</summary>
    public void FormatWholeDisk(string sourceDirectory, params string[] options) => Format(0, Length, sourceDirectory, options);

    private void Format(long offset, long bytes, string sourceDirectory, string[] options)
    {
        string[] type = options.Contains("-t") ? [] : ["-t", "ext4"];
        string[] args = ["-F", "-q", .. type, .. options, "-E", $"offset={offset}", "-d", sourceDirectory, Path, $"{bytes / 1024}k"];
        Run(E2fsTool("mke2fs"), args);
    }

    /// <summary>Runs debugfs on the file system at <paramref name="offset"/>; <paramref name="write"/> opens it read-write.</summary>
    public string Debugfs(long offset, string request, bool write = false) =>
        Run(E2fsTool("debugfs"), [.. write ? new[] { "-w" } : [], "-R", request, $"{Path}?offset={offset}"]);

    /// <summary>Where an inode's bytes lie in the image, from debugfs's imap (e.g. "located at block 1058, offset 0x0b00").</summary>
    public long InodeOffset(long fsOffset, string path, int blockSize)
    {
        string map = Debugfs(fsOffset, $"imap {path}");
        var match = System.Text.RegularExpressions.Regex.Match(map, @"located at block (\d+), offset 0x([0-9a-f]+)");
        match.Success.Should().BeTrue($"debugfs imap {path} says where the inode is: {map}");
        return fsOffset + (long.Parse(match.Groups[1].Value) * blockSize) + Convert.ToInt64(match.Groups[2].Value, 16);
    }

    /// <summary>The physical block of a file's logical block, from debugfs's bmap.</summary>
    public long BlockOf(long fsOffset, string path, long logical) =>
        long.Parse(Debugfs(fsOffset, $"bmap {path} {logical}").Trim().Split('\n')[^1].Trim());

    /// <summary>e2fsck -fyD on a whole-disk file system: rebuilds every directory, large ones as hashed (htree) directories.</summary>
    public void OptimizeDirectories() => Run(E2fsTool("e2fsck"), ["-fyD", Path], okExitCodes: [0, 1]);

    public void WriteAt(long offset, ReadOnlySpan<byte> data)
    {
        using var file = File.OpenHandle(Path, FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.Write(file, data, offset);
    }

    public byte[] ReadAt(long offset, int count)
    {
        byte[] data = new byte[count];
        using var file = File.OpenHandle(Path, FileMode.Open, FileAccess.Read);
        RandomAccess.Read(file, data, offset);
        return data;
    }

    public void Dispose() => File.Delete(Path);

    /// <summary>An e2fsprogs program (Debian puts them in /sbin, often off a user's PATH).</summary>
    public static string E2fsTool(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin"]))
        {
            string candidate = System.IO.Path.Combine(dir, name);
            if (dir.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{name} is missing: install Debian's e2fsprogs (./platform test does).");
    }

    private static string Run(string program, IEnumerable<string> args, int[]? okExitCodes = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (!(okExitCodes ?? [0]).Contains(process.ExitCode))
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {stderr}");
        }

        return stdout.Result;
    }
}

/// <summary>A temporary folder to fill with a guest's files (mke2fs -d copies it into a file system).</summary>
public sealed class GuestTree : IDisposable
{
    public GuestTree()
    {
        Root = Directory.CreateTempSubdirectory("guest-tree-").FullName;
    }

    public string Root { get; }

    public GuestTree File(string path, byte[] contents)
    {
        string full = Full(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllBytes(full, contents);
        return this;
    }

    public GuestTree File(string path, string text) => File(path, Encoding.UTF8.GetBytes(text));

    public GuestTree CopyFile(string path, string source) => File(path, System.IO.File.ReadAllBytes(source));

    public GuestTree Symlink(string path, string target)
    {
        string full = Full(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.CreateSymbolicLink(full, target);
        return this;
    }

    public GuestTree Folder(string path)
    {
        Directory.CreateDirectory(Full(path));
        return this;
    }

    private string Full(string path) => System.IO.Path.Combine(Root, path.TrimStart('/'));

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
