using System.Text.Json;
using Platform.Devices.Tests.Virtio.Block.Qcow2;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Images;

namespace Platform.Devices.Tests.Virtio.Block.Images;

// Internal snapshots against qemu-img: it lists ours, checks the refcounts we keep, and its snapshots are ours to
// list, apply and delete. Data is written by qemu-io and by our backend, and compared through qemu-img convert.
public sealed class Qcow2SnapshotsTests : IDisposable
{
    private const int MiB = 1 << 20;
    private readonly ImageFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("cluster_size=65536")]
    [InlineData("cluster_size=4096,refcount_bits=8")] // many L2 tables, a refcount block per 4096 clusters
    [InlineData("cluster_size=512,refcount_bits=64")] // tables and blocks of one sector
    public void Our_snapshot_is_listed_by_qemu_img_and_brings_back_what_the_disk_held(string options)
    {
        string image = _dir["disk.qcow2"];
        QemuImg.Create(image, $"{4 * MiB}", options);
        QemuImg.Io(image, "qcow2", "write -P 0x11 0 1M", "write -P 0x22 3M 64k");
        byte[] before = QemuImg.ContentsAsRaw(image);

        Qcow2Snapshots.Create(image, "before upgrade");
        QemuImg.CheckClean(image);
        QemuImg.Img("snapshot", "-l", image).Should().Contain("before upgrade");
        var listed = Qcow2Snapshots.List(image);
        listed.Should().ContainSingle();
        listed[0].Id.Should().Be("1");
        listed[0].Name.Should().Be("before upgrade");
        listed[0].VirtualSizeBytes.Should().Be(4 * MiB);
        listed[0].VmStateSizeBytes.Should().Be(0);
        listed[0].Created.Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));

        // The guest writes on: over the snapshot's clusters (copy-on-write) and into new ones.
        QemuImg.Io(image, "qcow2", "write -P 0x33 512k 1M");
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            byte[] data = new byte[8192];
            data.AsSpan().Fill(0x44);
            disk.Write(3 * MiB, data).Should().BeTrue();
            disk.AllocatedClusters.Should().BeGreaterThan(0, "the clusters at 3 MiB belong to the snapshot too: the write goes to new ones");
            disk.Write(2 * MiB, data).Should().BeTrue();
        }

        QemuImg.CheckClean(image);
        byte[] after = QemuImg.ContentsAsRaw(image);
        after.Should().NotEqual(before);

        Qcow2Snapshots.Revert(image, "before upgrade");
        QemuImg.CheckClean(image);
        Qcow2BlockBackendReadTests.FirstDifference(QemuImg.ContentsAsRaw(image), before).Should().Be(before.Length);

        // Reverting twice, and writing after a revert, keep the snapshot intact.
        QemuImg.Io(image, "qcow2", "write -P 0x55 0 2M");
        Qcow2Snapshots.Revert(image, "before upgrade");
        QemuImg.CheckClean(image);
        Qcow2BlockBackendReadTests.FirstDifference(QemuImg.ContentsAsRaw(image), before).Should().Be(before.Length);

        Qcow2Snapshots.Delete(image, "before upgrade");
        QemuImg.CheckClean(image);
        Qcow2Snapshots.List(image).Should().BeEmpty();
        QemuImg.Img("snapshot", "-l", image).Should().NotContain("before upgrade");
        Qcow2BlockBackendReadTests.FirstDifference(QemuImg.ContentsAsRaw(image), before).Should().Be(before.Length);
    }

    [Fact]
    public void Deleting_the_only_snapshot_frees_what_only_it_held_and_the_image_owns_its_clusters_again()
    {
        string image = _dir["disk.qcow2"];
        QemuImg.Create(image, $"{4 * MiB}", "cluster_size=65536");
        QemuImg.Io(image, "qcow2", "write -P 0x11 0 2M");
        Qcow2Snapshots.Create(image, "s");
        QemuImg.Io(image, "qcow2", "write -P 0x22 0 1M"); // 16 clusters copied: the old ones now only the snapshot's
        Qcow2Snapshots.Delete(image, "s");
        QemuImg.CheckClean(image);

        using var map = JsonDocument.Parse(QemuImg.Img("check", "--output=json", image));
        long allocated = map.RootElement.GetProperty("allocated-clusters").GetInt64();
        allocated.Should().Be(32, "the 16 clusters only the snapshot used were freed");
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            disk.Write(0, new byte[65536]).Should().BeTrue();
            disk.Write(MiB + 65536, new byte[65536]).Should().BeTrue();
            disk.AllocatedClusters.Should().Be(0, "without the snapshot every cluster is written in place again (COPIED set back)");
        }

        QemuImg.CheckClean(image);
    }

    [Fact]
    public void Snapshots_qemu_img_made_are_listed_applied_and_deleted_by_ours()
    {
        string image = _dir["disk.qcow2"];
        QemuImg.Create(image, $"{8 * MiB}", "cluster_size=65536");
        QemuImg.Io(image, "qcow2", "write -P 0x01 0 1M");
        byte[] first = QemuImg.ContentsAsRaw(image);
        QemuImg.Img("snapshot", "-c", "first", image);
        QemuImg.Io(image, "qcow2", "write -P 0x02 512k 2M");
        byte[] second = QemuImg.ContentsAsRaw(image);
        QemuImg.Img("snapshot", "-c", "second", image);
        QemuImg.Io(image, "qcow2", "write -P 0x03 0 4M");

        var listed = Qcow2Snapshots.List(image);
        listed.Select(s => (s.Id, s.Name)).Should().Equal(("1", "first"), ("2", "second"));
        listed.Should().OnlyContain(s => s.VirtualSizeBytes == 8 * MiB);

        Qcow2Snapshots.Revert(image, "first");
        QemuImg.CheckClean(image);
        QemuImg.ContentsAsRaw(image).Should().Equal(first);

        Qcow2Snapshots.Delete(image, "first");
        QemuImg.CheckClean(image);
        Qcow2Snapshots.Revert(image, "second");
        QemuImg.CheckClean(image);
        QemuImg.ContentsAsRaw(image).Should().Equal(second);

        // qemu-img takes over ours too.
        Qcow2Snapshots.Create(image, "third");
        QemuImg.Img("snapshot", "-a", "third", image);
        QemuImg.Img("snapshot", "-d", "third", image);
        QemuImg.CheckClean(image);
        QemuImg.ContentsAsRaw(image).Should().Equal(second);
        Qcow2Snapshots.List(image).Select(s => s.Name).Should().Equal("second");
    }

    [Fact]
    public void Compressed_and_preallocated_zero_clusters_are_counted_by_a_snapshot_and_released_by_its_deletion()
    {
        string image = _dir["disk.qcow2"];
        QemuImg.Create(image, $"{4 * MiB}", "cluster_size=65536");
        QemuImg.Io(image, "qcow2", "write -c -P 0x31 0 64k", "write -c -P 0x32 64k 64k", "write -P 0x33 1M 128k", "write -z 1M 64k");
        byte[] before = QemuImg.ContentsAsRaw(image);

        Qcow2Snapshots.Create(image, "mixed");
        QemuImg.CheckClean(image);
        QemuImg.Io(image, "qcow2", "write -P 0x44 0 2M");
        QemuImg.CheckClean(image);
        Qcow2Snapshots.Revert(image, "mixed");
        QemuImg.CheckClean(image);
        QemuImg.ContentsAsRaw(image).Should().Equal(before);
        Qcow2Snapshots.Delete(image, "mixed");
        QemuImg.CheckClean(image);
        QemuImg.ContentsAsRaw(image).Should().Equal(before);
    }

    [Fact]
    public void Reverting_brings_back_the_size_the_disk_had_when_the_snapshot_was_taken()
    {
        string image = _dir["disk.qcow2"];
        QemuImg.Create(image, $"{4 * MiB}", "cluster_size=4096"); // 2 MiB per L1 entry: growing to 64 MiB grows the L1 table
        QemuImg.Io(image, "qcow2", "write -P 0x66 1M 1M");
        byte[] before = QemuImg.ContentsAsRaw(image);
        Qcow2Snapshots.Create(image, "small");
        DiskImageResizer.Grow(image, 64 * MiB);
        QemuImg.Io(image, "qcow2", "write -P 0x77 60M 1M");
        QemuImg.CheckClean(image);
        Qcow2Snapshots.List(image)[0].VirtualSizeBytes.Should().Be(4 * MiB);

        Qcow2Snapshots.Revert(image, "small");
        QemuImg.CheckClean(image);
        DiskImages.Inspect(image).VirtualSizeBytes.Should().Be(4 * MiB);
        QemuImg.ContentsAsRaw(image).Should().Equal(before);
    }

    [Fact]
    public void A_used_name_an_unknown_name_a_raw_image_and_an_image_in_use_are_refused_with_the_reason()
    {
        string image = _dir["disk.qcow2"];
        QemuImg.Create(image, $"{MiB}");
        Qcow2Snapshots.Create(image, "a");

        var twice = () => Qcow2Snapshots.Create(image, "a");
        twice.Should().Throw<DiskImageException>().WithMessage("*named 'a' already exists*");
        var unknown = () => Qcow2Snapshots.Revert(image, "b");
        unknown.Should().Throw<DiskImageException>().WithMessage("*no snapshot named 'b'; the image has 'a'*");
        var unknownDelete = () => Qcow2Snapshots.Delete(image, "b");
        unknownDelete.Should().Throw<DiskImageException>().WithMessage("*no snapshot named 'b'*");
        var blank = () => Qcow2Snapshots.Create(image, " ");
        blank.Should().Throw<DiskImageException>().WithMessage("*needs a name*");
        var control = () => Qcow2Snapshots.Create(image, "a\nb");
        control.Should().Throw<DiskImageException>().WithMessage("*control characters*");

        string raw = _dir["disk.raw"];
        File.WriteAllBytes(raw, new byte[MiB]);
        var onRaw = () => Qcow2Snapshots.Create(raw, "x");
        onRaw.Should().Throw<DiskImageException>().WithMessage("*raw image; snapshots need a qcow2 image*");
        var listRaw = () => Qcow2Snapshots.List(raw);
        listRaw.Should().Throw<DiskImageException>().WithMessage("*raw image*");

        using (Qcow2BlockBackendReadTests.Open(image))
        {
            var busy = () => Qcow2Snapshots.Create(image, "c");
            busy.Should().Throw<DiskImageException>().WithMessage("*in use*");
        }

        Qcow2Snapshots.List(image).Select(s => s.Name).Should().Equal("a");
        QemuImg.CheckClean(image);
    }
}
