using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Devices.Tests.Virtio.Block.Qcow2;

// Reading what QEMU writes: every image is compared byte for byte with qemu-img's own conversion to raw.
public sealed class Qcow2BlockBackendReadTests : IDisposable
{
    private readonly ImageFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, int> Layouts => new()
    {
        { "0.10", 512 }, { "0.10", 65536 }, { "1.1", 512 }, { "1.1", 4096 }, { "1.1", 65536 }, { "1.1", 2 << 20 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Reads_what_qemu_io_wrote_in_every_version_and_cluster_size(string compat, int clusterSize)
    {
        string image = _dir["a.qcow2"];
        QemuImg.Create(image, "8M", $"compat={compat},cluster_size={clusterSize}");
        QemuImg.Io(image, "qcow2",
            "write -P 0x11 0 4k", "write -P 0x22 1000448 70k", "write -P 0x33 4194304 1M", "write -P 0x44 8387584 512",
            "write -P 0x55 3000 1000"); // sub-sector writes too: QEMU reads around them

        AssertSameAsQemu(image);
    }

    [Fact]
    public void Reads_through_a_raw_and_a_qcow2_backing_file_with_zero_clusters_over_them()
    {
        string baseRaw = _dir["base.raw"];
        byte[] pattern = new byte[4 << 20];
        new Random(7).NextBytes(pattern);
        File.WriteAllBytes(baseRaw, pattern);
        string middle = _dir["middle.qcow2"];
        QemuImg.Create(middle, "4M", "cluster_size=4096", backing: "base.raw", backingFormat: "raw");
        QemuImg.Io(middle, "qcow2", "write -P 0x66 65536 8k", "write -z 131072 64k"); // -z on a backed v3 image: zero flags
        string top = _dir["top.qcow2"];
        QemuImg.Create(top, "6M", "cluster_size=65536", backing: "middle.qcow2", backingFormat: "qcow2"); // bigger than its base
        QemuImg.Io(top, "qcow2", "write -P 0x77 70000 3000", "write -P 0x78 5242880 4k");

        using var backend = AssertSameAsQemu(top);
        var chain = backend.Describe();
        chain.Backing!.Path.Should().EndWith("middle.qcow2");
        chain.Backing.Backing!.Format.Should().Be(DiskImageFormat.Raw);
        chain.Lines().Should().HaveCount(3);
        var counters = new Dictionary<string, long>();
        backend.AddCounters(counters);
        counters["backing_reads"].Should().BePositive();
    }

    [Fact]
    public void Reads_compressed_clusters_as_qemu_img_convert_c_writes_them()
    {
        string raw = _dir["plain.raw"];
        byte[] data = new byte[3 << 20];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)((i / 4096 % 7 == 0) ? i * 31 : i / 512); // compressible, with some noisy clusters
        }

        File.WriteAllBytes(raw, data);
        string image = _dir["compressed.qcow2"];
        QemuImg.Img("convert", "-c", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=65536", raw, image);
        new FileInfo(image).Length.Should().BeLessThan(data.Length, "convert -c compressed the clusters");

        using var backend = AssertSameAsQemu(image);
        var counters = new Dictionary<string, long>();
        backend.AddCounters(counters);
        counters["compressed_reads"].Should().BePositive();
    }

    [Fact]
    public void An_image_with_internal_snapshots_reads_its_active_state()
    {
        string image = _dir["snap.qcow2"];
        QemuImg.Create(image, "2M");
        QemuImg.Io(image, "qcow2", "write -P 0x01 0 128k");
        QemuImg.Img("snapshot", "-c", "first", image);
        QemuImg.Io(image, "qcow2", "write -P 0x02 65536 128k");

        using var backend = AssertSameAsQemu(image);
        backend.Describe().Snapshots.Should().Be(1);
    }

    [Fact]
    public void Vectored_reads_fill_the_buffers_back_to_back_across_cluster_kinds()
    {
        string image = _dir["v.qcow2"];
        QemuImg.Create(image, "1M", "cluster_size=4096");
        QemuImg.Io(image, "qcow2", "write -P 0x5a 4096 4096", "write -P 0x5b 12288 8192");
        byte[] expected = QemuImg.ContentsAsRaw(image);
        using var backend = Open(image, readOnly: true);
        byte[] a = new byte[1000], b = new byte[6000], c = new byte[16384 - 7000];
        backend.Read(2048, [a.AsMemory(), b.AsMemory(), c.AsMemory()]).Should().BeTrue();
        byte[] joined = [.. a, .. b, .. c];
        joined.Should().Equal(expected.AsSpan(2048, 16384).ToArray());
    }

    [Fact]
    public void Reads_past_the_disk_fail_without_touching_the_buffer()
    {
        string image = _dir["small.qcow2"];
        QemuImg.Create(image, "64k");
        using var backend = Open(image, readOnly: true);
        backend.Length.Should().Be(65536);
        byte[] buffer = [.. Enumerable.Repeat((byte)0xEE, 1024)];
        backend.Read(65536 - 512, buffer).Should().BeFalse();
        backend.LastError.Should().Contain("outside");
        backend.Read(-512, buffer.AsSpan(0, 512)).Should().BeFalse();
    }

    [Fact]
    public void An_overlay_made_by_our_creator_reads_its_backing_file_and_passes_qemu_img_check()
    {
        string baseRaw = _dir["base.raw"];
        byte[] pattern = new byte[1 << 20];
        new Random(3).NextBytes(pattern);
        File.WriteAllBytes(baseRaw, pattern);
        string overlay = _dir["clone.qcow2"];
        Qcow2Creator.Create(overlay, 2 << 20, "base.raw", DiskImageFormat.Raw);

        QemuImg.CheckClean(overlay);
        QemuImg.Img("info", overlay).Should().Contain("backing file format: raw");
        using var backend = AssertSameAsQemu(overlay);
        byte[] tail = new byte[4096];
        backend.Read((1 << 20) + 4096, tail).Should().BeTrue();
        tail.Should().OnlyContain(b => b == 0, "past the end of the backing file the overlay reads zeros");
    }

    private static Qcow2BlockBackend AssertSameAsQemu(string image)
    {
        byte[] expected = QemuImg.ContentsAsRaw(image);
        var backend = Open(image, readOnly: true);
        backend.Length.Should().Be(expected.Length);
        byte[] actual = new byte[expected.Length];
        // In odd pieces, so reads start and end inside clusters and cross table boundaries.
        for (int at = 0; at < actual.Length;)
        {
            int piece = Math.Min(actual.Length - at, 512 * (1 + (at / 512 % 300)));
            backend.Read(at, actual.AsSpan(at, piece)).Should().BeTrue(backend.LastError);
            at += piece;
        }

        actual.AsSpan().SequenceEqual(expected).Should().BeTrue($"{image} reads as qemu-img converts it (first difference at {FirstDifference(actual, expected)})");
        return backend;
    }

    internal static int FirstDifference(byte[] a, byte[] b) => a.AsSpan().CommonPrefixLength(b);

    internal static Qcow2BlockBackend Open(string path, bool readOnly = false) =>
        (Qcow2BlockBackend)DiskImages.Open(new DiskOptions(path, ReadOnly: readOnly, Format: DiskImageFormat.Qcow2));
}
