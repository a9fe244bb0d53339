using System.Buffers.Binary;
using System.Text;

namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>
/// One entry of the snapshot table (qcow2.txt, "Snapshots"): where the snapshot's L1 table is, its id and name, when it
/// was taken, and the extra data version 3 requires (the VM state's 64-bit size and the disk's size at the time).
/// </summary>
internal sealed record Qcow2SnapshotEntry(long L1TableOffset, int L1Size, string Id, string Name, long DateSeconds, int DateNanoseconds,
    long VmClockNanoseconds, long VmStateSize, long? DiskSize, byte[] ExtraData)
{
    /// <summary>Extra data we write: vm_state_size_large, disk_size, icount (−1: none), as QEMU 5 and later write it.</summary>
    public const int ExtraDataLength = 24;

    public DateTimeOffset Created => DateTimeOffset.FromUnixTimeSeconds(DateSeconds).AddTicks(DateNanoseconds / 100);
}

/// <summary>Reads and writes the snapshot table: entries of 40 bytes, extra data, id and name, each padded to 8 bytes.</summary>
internal static class Qcow2SnapshotTable
{
    private const int FixedLength = 40;
    private const int MaxExtraData = 1024;
    private const int MaxStringLength = 65535;

    /// <summary>Reads <paramref name="count"/> entries at <paramref name="offset"/>; throws <see cref="DiskImageException"/> for a corrupt table.</summary>
    public static List<Qcow2SnapshotEntry> Read(Qcow2ImageFile file, Qcow2Header header, int count, long offset)
    {
        var entries = new List<Qcow2SnapshotEntry>(count);
        long at = offset;
        long fileLength = file.Length;
        byte[] fixedPart = new byte[FixedLength];
        for (int i = 0; i < count; i++)
        {
            if (at + FixedLength > fileLength || !file.ReadUnaligned(at, fixedPart))
            {
                throw header.Corrupt($"snapshot {i} at 0x{at:x} is outside the file");
            }

            var e = fixedPart.AsSpan();
            int idLength = BinaryPrimitives.ReadUInt16BigEndian(e[12..]);
            int nameLength = BinaryPrimitives.ReadUInt16BigEndian(e[14..]);
            uint extraLength = BinaryPrimitives.ReadUInt32BigEndian(e[36..]);
            if (extraLength > MaxExtraData)
            {
                throw header.Corrupt($"snapshot {i} has {extraLength} bytes of extra data (at most {MaxExtraData})");
            }

            byte[] rest = new byte[extraLength + idLength + nameLength];
            if (at + FixedLength + rest.Length > fileLength || (rest.Length > 0 && !file.ReadUnaligned(at + FixedLength, rest)))
            {
                throw header.Corrupt($"snapshot {i} at 0x{at:x} runs past the end of the file");
            }

            byte[] extra = rest[..(int)extraLength];
            long vmState = BinaryPrimitives.ReadUInt32BigEndian(e[32..]);
            long? diskSize = null;
            if (extraLength >= 8)
            {
                vmState = (long)BinaryPrimitives.ReadUInt64BigEndian(extra);
            }

            if (extraLength >= 16)
            {
                diskSize = (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(extra.AsSpan(8)), (ulong)Qcow2Header.MaxVirtualSize);
            }

            entries.Add(new Qcow2SnapshotEntry(
                (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(e), long.MaxValue),
                (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(e[8..]), int.MaxValue),
                Text(header, rest.AsSpan((int)extraLength, idLength), i),
                Text(header, rest.AsSpan((int)extraLength + idLength, nameLength), i),
                BinaryPrimitives.ReadUInt32BigEndian(e[16..]),
                (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(e[20..]), 999_999_999),
                (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(e[24..]), long.MaxValue),
                vmState,
                diskSize,
                extra));
            at += Padded(FixedLength + rest.Length);
        }

        return entries;
    }

    /// <summary>The table's bytes (each entry padded to 8 bytes, the last one too).</summary>
    public static byte[] Serialize(IReadOnlyList<Qcow2SnapshotEntry> entries)
    {
        var bytes = new List<byte>();
        foreach (var entry in entries)
        {
            byte[] id = Encoding.UTF8.GetBytes(entry.Id);
            byte[] name = Encoding.UTF8.GetBytes(entry.Name);
            if (id.Length > MaxStringLength || name.Length > MaxStringLength)
            {
                throw new ArgumentException("A snapshot id or name is at most 65535 bytes.", nameof(entries));
            }

            byte[] e = new byte[Padded(FixedLength + entry.ExtraData.Length + id.Length + name.Length)];
            var s = e.AsSpan();
            BinaryPrimitives.WriteUInt64BigEndian(s, (ulong)entry.L1TableOffset);
            BinaryPrimitives.WriteUInt32BigEndian(s[8..], (uint)entry.L1Size);
            BinaryPrimitives.WriteUInt16BigEndian(s[12..], (ushort)id.Length);
            BinaryPrimitives.WriteUInt16BigEndian(s[14..], (ushort)name.Length);
            BinaryPrimitives.WriteUInt32BigEndian(s[16..], (uint)entry.DateSeconds);
            BinaryPrimitives.WriteUInt32BigEndian(s[20..], (uint)entry.DateNanoseconds);
            BinaryPrimitives.WriteUInt64BigEndian(s[24..], (ulong)entry.VmClockNanoseconds);
            BinaryPrimitives.WriteUInt32BigEndian(s[32..], (uint)Math.Min(entry.VmStateSize, uint.MaxValue));
            BinaryPrimitives.WriteUInt32BigEndian(s[36..], (uint)entry.ExtraData.Length);
            entry.ExtraData.CopyTo(s[FixedLength..]);
            id.CopyTo(s[(FixedLength + entry.ExtraData.Length)..]);
            name.CopyTo(s[(FixedLength + entry.ExtraData.Length + id.Length)..]);
            bytes.AddRange(e);
        }

        return [.. bytes];
    }

    /// <summary>Bytes the table occupies in the file: every entry padded but the last (QEMU does not write its padding).</summary>
    public static long Length(IReadOnlyList<Qcow2SnapshotEntry> entries)
    {
        long length = 0;
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            long bytes = FixedLength + e.ExtraData.Length + Encoding.UTF8.GetByteCount(e.Id) + Encoding.UTF8.GetByteCount(e.Name);
            length += i == entries.Count - 1 ? bytes : Padded(bytes);
        }

        return length;
    }

    /// <summary>Extra data for a new disk-only snapshot of a disk of <paramref name="diskSize"/> bytes.</summary>
    public static byte[] NewExtraData(long diskSize)
    {
        byte[] extra = new byte[Qcow2SnapshotEntry.ExtraDataLength];
        BinaryPrimitives.WriteUInt64BigEndian(extra.AsSpan(8), (ulong)diskSize);
        BinaryPrimitives.WriteUInt64BigEndian(extra.AsSpan(16), ulong.MaxValue);
        return extra;
    }

    private static long Padded(long length) => (length + 7) & ~7L;

    private static string Text(Qcow2Header header, ReadOnlySpan<byte> bytes, int index)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw header.Corrupt($"snapshot {index}'s id or name is not UTF-8");
        }
    }
}
