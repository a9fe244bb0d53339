using System.Buffers.Binary;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Devices.Tests.Virtio.Block.Qcow2;

// Writing: random writes, discards and write-zeroes checked against a byte-array model, then qemu-img check (no
// corruption, no leak) and qemu-img's own reading of the result.
public sealed class Qcow2BlockBackendWriteTests : IDisposable
{
    private const int Size = 4 << 20;
    private readonly ImageFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, int, string?> Configurations => new()
    {
        { "0.10", 65536, null }, { "1.1", 512, null }, { "1.1", 4096, null }, { "1.1", 65536, null },
        { "1.1", 65536, "raw" }, { "1.1", 4096, "qcow2" }, { "0.10", 4096, "raw" }, { "1.1", 2 << 20, "raw" },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Random_writes_discards_and_zeroes_match_a_model_and_leave_a_clean_image(string compat, int clusterSize, string? backingFormat)
    {
        byte[] model = new byte[Size];
        string image = _dir["disk.qcow2"];
        if (backingFormat is null)
        {
            QemuImg.Create(image, $"{Size}", $"compat={compat},cluster_size={clusterSize}");
        }
        else
        {
            model = MakeBacking(backingFormat, Size - (128 * 1024)); // a little shorter than the overlay: zeros past it
            QemuImg.Create(image, $"{Size}", $"compat={compat},cluster_size={clusterSize}", backing: $"base.{backingFormat}", backingFormat: backingFormat);
        }

        var random = new Random(clusterSize + compat.Length + (backingFormat?.Length ?? 0));
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            for (int op = 0; op < 400; op++)
            {
                int sectors = random.Next(1, op % 10 == 0 ? 600 : 40);
                long offset = (long)random.Next(0, (Size / 512) - sectors) * 512;
                int length = sectors * 512;
                switch (random.Next(10))
                {
                    case 0:
                        disk.Discard(offset, length).Should().BeTrue(disk.LastError);
                        ApplyDiscard(disk, model, offset, length, clusterSize);
                        break;
                    case 1:
                        disk.WriteZeroes(offset, length, mayUnmap: random.Next(2) == 0).Should().BeTrue(disk.LastError);
                        model.AsSpan((int)offset, length).Clear();
                        break;
                    default:
                        byte[] data = new byte[length];
                        random.NextBytes(data);
                        if (random.Next(2) == 0)
                        {
                            disk.Write(offset, data).Should().BeTrue(disk.LastError);
                        }
                        else
                        {
                            int cut = random.Next(0, sectors) * 512;
                            disk.Write(offset, [data.AsMemory(0, cut), data.AsMemory(cut)]).Should().BeTrue(disk.LastError);
                        }

                        data.CopyTo(model, offset);
                        break;
                }

                if (op % 50 == 0)
                {
                    disk.Flush().Should().BeTrue();
                }
            }

            byte[] read = new byte[Size];
            disk.Read(0, read).Should().BeTrue(disk.LastError);
            Qcow2BlockBackendReadTests.FirstDifference(read, model).Should().Be(Size, "our reads give back what we wrote");
            disk.AllocatedClusters.Should().BePositive();
        }

        QemuImg.CheckClean(image);
        byte[] qemuView = QemuImg.ContentsAsRaw(image);
        Qcow2BlockBackendReadTests.FirstDifference(qemuView, model).Should().Be(Size, "QEMU reads what we wrote");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(32)]
    [InlineData(64)]
    public void Refcounts_of_every_width_stay_right(int refcountBits)
    {
        string image = _dir["r.qcow2"];
        QemuImg.Create(image, "2M", $"cluster_size=4096,refcount_bits={refcountBits}");
        byte[] data = new byte[12288];
        new Random(refcountBits).NextBytes(data);
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            disk.Write(8192, data).Should().BeTrue(disk.LastError);
            disk.Write(1 << 20, data.AsSpan(0, 4096)).Should().BeTrue(disk.LastError);
            disk.Discard(8192, 4096).Should().BeTrue(disk.LastError);
        }

        QemuImg.CheckClean(image);
        byte[] contents = QemuImg.ContentsAsRaw(image);
        contents.AsSpan(8192, 4096).ToArray().Should().OnlyContain(b => b == 0);
        contents.AsSpan(12288, 8192).SequenceEqual(data.AsSpan(4096)).Should().BeTrue();
    }

    [Fact]
    public void The_refcount_table_grows_when_the_image_outgrows_it()
    {
        // 512-byte clusters with 64-bit refcounts: one block counts 64 clusters, a one-cluster table 4096 clusters (2 MiB).
        string image = _dir["grow.qcow2"];
        QemuImg.Create(image, "16M", "cluster_size=512,refcount_bits=64");
        byte[] data = new byte[8 << 20];
        new Random(11).NextBytes(data);
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            for (int at = 0; at < data.Length; at += 64 * 1024)
            {
                disk.Write(at, data.AsSpan(at, 64 * 1024)).Should().BeTrue(disk.LastError);
            }
        }

        long tableOffset = BinaryPrimitives.ReadInt64BigEndian(ReadBytes(image, 48, 8));
        int tableClusters = BinaryPrimitives.ReadInt32BigEndian(ReadBytes(image, 56, 4));
        tableClusters.Should().BeGreaterThan(1, "the table grew");
        tableOffset.Should().NotBe(512 * 1, "the table moved to the end of the file");
        QemuImg.CheckClean(image);
        QemuImg.ContentsAsRaw(image).AsSpan(0, data.Length).SequenceEqual(data).Should().BeTrue();
    }

    [Fact]
    public void A_partial_write_into_a_compressed_cluster_copies_it_to_a_fresh_cluster()
    {
        string raw = _dir["plain.raw"];
        byte[] data = new byte[1 << 20];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i / 1000);
        }

        File.WriteAllBytes(raw, data);
        string image = _dir["c.qcow2"];
        QemuImg.Img("convert", "-c", "-f", "raw", "-O", "qcow2", raw, image);
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            byte[] patch = [.. Enumerable.Repeat((byte)0xC4, 1024)];
            disk.Write(70 * 1024, patch).Should().BeTrue(disk.LastError);
            patch.CopyTo(data, 70 * 1024);
            disk.CopyOnWrites.Should().Be(1);
        }

        QemuImg.CheckClean(image);
        QemuImg.ContentsAsRaw(image).SequenceEqual(data).Should().BeTrue();
    }

    [Fact]
    public void Writes_under_an_internal_snapshot_copy_its_tables_and_clusters_and_leave_it_intact()
    {
        string image = _dir["snap.qcow2"];
        QemuImg.Create(image, "4M", "cluster_size=4096");
        QemuImg.Io(image, "qcow2", "write -P 0x01 0 1M");
        QemuImg.Img("snapshot", "-c", "before", image);
        byte[] expected = QemuImg.ContentsAsRaw(image);
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            byte[] patch = [.. Enumerable.Repeat((byte)0x99, 6144)];
            disk.Write(10240, patch).Should().BeTrue(disk.LastError); // inside shared clusters, partially
            patch.CopyTo(expected, 10240);
            disk.WriteZeroes(0, 4096, mayUnmap: true).Should().BeTrue(disk.LastError);
            expected.AsSpan(0, 4096).Clear();
        }

        QemuImg.CheckClean(image);
        QemuImg.ContentsAsRaw(image).SequenceEqual(expected).Should().BeTrue();
        // The snapshot still holds the old data: apply it to a copy and read that.
        string copy = _dir["copy.qcow2"];
        File.Copy(image, copy);
        QemuImg.Img("snapshot", "-a", "before", copy);
        QemuImg.ContentsAsRaw(copy).AsSpan(0, 1 << 20).ToArray().Should().OnlyContain(b => b == 1);
    }

    [Fact]
    public void A_preallocated_image_is_written_in_place_without_growing()
    {
        string image = _dir["pre.qcow2"];
        QemuImg.Create(image, "2M", "preallocation=metadata");
        long before = new FileInfo(image).Length;
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            disk.Write(123 * 512, new byte[] { 1, 2, 3 }.Concat(new byte[509]).ToArray()).Should().BeTrue(disk.LastError);
            disk.AllocatedClusters.Should().Be(0, "every cluster was already allocated");
        }

        new FileInfo(image).Length.Should().Be(before);
        QemuImg.CheckClean(image);
    }

    [Fact]
    public void Writes_to_a_read_only_image_fail_and_leave_it_alone()
    {
        string image = _dir["ro.qcow2"];
        QemuImg.Create(image, "1M");
        byte[] before = File.ReadAllBytes(image);
        using (var disk = Qcow2BlockBackendReadTests.Open(image, readOnly: true))
        {
            disk.IsReadOnly.Should().BeTrue();
            disk.Write(0, new byte[512]).Should().BeFalse();
            disk.WriteZeroes(0, 65536, true).Should().BeFalse();
            disk.Discard(0, 65536).Should().BeFalse();
            disk.LastError.Should().Contain("read-only");
        }

        File.ReadAllBytes(image).Should().Equal(before);
    }

    private byte[] MakeBacking(string format, int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        string raw = _dir["base.raw"];
        File.WriteAllBytes(raw, data);
        if (format == "qcow2")
        {
            QemuImg.Img("convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=4096", raw, _dir["base.qcow2"]);
            File.Delete(raw);
        }

        byte[] model = new byte[Size];
        data.CopyTo(model, 0);
        return model;
    }

    /// <summary>Discard's contents are unspecified: the model takes what the image reads there now.</summary>
    private static void ApplyDiscard(Qcow2BlockBackend disk, byte[] model, long offset, int length, int clusterSize)
    {
        _ = clusterSize;
        disk.Read(offset, model.AsSpan((int)offset, length)).Should().BeTrue();
    }

    private static byte[] ReadBytes(string path, long offset, int count)
    {
        byte[] bytes = new byte[count];
        using var file = File.OpenHandle(path);
        RandomAccess.Read(file, bytes, offset);
        return bytes;
    }
}
