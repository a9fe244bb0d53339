using System.Buffers.Binary;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>A sparse raw image in the temporary folder, deleted on dispose; and the blk test guest's sector pattern.</summary>
public sealed class DiskImage : IDisposable
{
    public const int SectorSize = 512;

    public DiskImage(long bytes)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"disk-{Guid.NewGuid():N}.img");
        using var file = File.Create(Path);
        file.SetLength(bytes);
    }

    public string Path { get; }

    /// <summary>What tests/guests/blk.c writes: word <paramref name="word"/> (0–63) of <paramref name="sector"/>.</summary>
    public static ulong Pattern(ulong seed, ulong sector, int word) => (seed << 48) | (sector << 8) | (uint)word;

    public byte[] ReadSectors(long sector, int count)
    {
        byte[] data = new byte[count * SectorSize];
        using var file = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        RandomAccess.Read(file, data, sector * SectorSize);
        return data;
    }

    /// <summary>The first sector in [<paramref name="first"/>, +<paramref name="count"/>) that does not hold the pattern, or -1.</summary>
    public long FirstSectorWithoutPattern(ulong seed, long first, int count) => FirstSectorWithoutPattern(ReadSectors(first, count), seed, first);

    /// <summary>As the instance method, over <paramref name="data"/>: sectors from <paramref name="first"/> (a qcow2 image's contents, say).</summary>
    public static long FirstSectorWithoutPattern(ReadOnlySpan<byte> data, ulong seed, long first)
    {
        int count = data.Length / SectorSize;
        for (int s = 0; s < count; s++)
        {
            for (int w = 0; w < SectorSize / 8; w++)
            {
                ulong value = BinaryPrimitives.ReadUInt64LittleEndian(data[((s * SectorSize) + (w * 8))..]);
                if (value != Pattern(seed, (ulong)(first + s), w))
                {
                    return first + s;
                }
            }
        }

        return -1;
    }

    public void Dispose() => File.Delete(Path);
}
