using System.Text.Json;
using Platform.Devices.Tests.Virtio.Block.Qcow2;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Images;

namespace Platform.Devices.Tests.Virtio.Block.Images;

// Blank images checked against qemu-img, the reference: its info reads our header, its check walks our tables.
public sealed class DiskImageCreatorTests : IDisposable
{
    private const long MiB = 1 << 20;
    private readonly ImageFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(DiskImageFormat.Qcow2, Preallocation.Off, 64 * MiB)]
    [InlineData(DiskImageFormat.Qcow2, Preallocation.Metadata, 600 * MiB)] // two L2 tables, one partly used
    [InlineData(DiskImageFormat.Qcow2, Preallocation.Full, 8 * MiB)]
    [InlineData(DiskImageFormat.Qcow2, Preallocation.Off, 3L << 40)] // 3 TiB: a 48 KiB L1 table
    [InlineData(DiskImageFormat.Raw, Preallocation.Off, 64 * MiB)]
    [InlineData(DiskImageFormat.Raw, Preallocation.Full, 8 * MiB)]
    public void A_new_image_is_what_qemu_img_reads_and_checks_clean(DiskImageFormat format, Preallocation preallocation, long size)
    {
        string path = _dir["disk.img"];
        DiskImageCreator.Create(path, size, format, preallocation);

        using var info = JsonDocument.Parse(QemuImg.Img("info", "--output=json", path));
        info.RootElement.GetProperty("format").GetString().Should().Be(DiskImageProbe.Name(format));
        info.RootElement.GetProperty("virtual-size").GetInt64().Should().Be(size);
        long actual = info.RootElement.GetProperty("actual-size").GetInt64();
        var ours = DiskImages.Inspect(path);
        ours.Format.Should().Be(format);
        ours.VirtualSizeBytes.Should().Be(size);
        ours.AllocatedBytes.Should().Be(actual, "Inspect reports the host blocks as qemu-img's actual-size does");
        if (preallocation == Preallocation.Full)
        {
            actual.Should().BeGreaterThanOrEqualTo(size, "full preallocation takes the space now");
        }
        else
        {
            actual.Should().BeLessThan(4 * MiB, "without full preallocation the data stays sparse");
        }

        if (format == DiskImageFormat.Qcow2)
        {
            QemuImg.CheckClean(path);
            using var map = JsonDocument.Parse(QemuImg.Img("map", "--output=json", path));
            bool mapped = map.RootElement.EnumerateArray().Any(e => e.GetProperty("data").GetBoolean());
            mapped.Should().Be(preallocation != Preallocation.Off, "metadata and full preallocation map every cluster");
        }

        Directory.GetFiles(_dir.Path).Should().Equal([path], "the temporary file was renamed, nothing else is left");
    }

    [Fact]
    public void Inspect_reports_snapshots_and_the_backing_file_and_refuses_an_image_a_vm_writes()
    {
        string backing = _dir["base.raw"];
        DiskImageCreator.Create(backing, 8 * MiB, DiskImageFormat.Raw, Preallocation.Off);
        string overlay = _dir["overlay.qcow2"];
        QemuImg.Create(overlay, $"{8 * MiB}", backing: "base.raw", backingFormat: "raw");
        QemuImg.Img("snapshot", "-c", "one", overlay);
        QemuImg.Img("snapshot", "-c", "two", overlay);

        var info = DiskImages.Inspect(overlay);
        info.Should().BeEquivalentTo(new { Format = DiskImageFormat.Qcow2, VirtualSizeBytes = 8 * MiB, Snapshots = 2, BackingFile = "base.raw" });
        info.FileBytes.Should().Be(new FileInfo(overlay).Length);

        using (File.Open(overlay, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var busy = () => DiskImages.Inspect(overlay);
            busy.Should().Throw<DiskImageException>().WithMessage("*in use*query-stats*");
        }

        var missing = () => DiskImages.Inspect(_dir["nothing.qcow2"]);
        missing.Should().Throw<DiskImageException>().WithMessage("*no such disk image*");
    }

    [Fact]
    public void A_preallocated_qcow2_image_takes_guest_writes_in_place_and_reads_them_back()
    {
        string path = _dir["disk.qcow2"];
        DiskImageCreator.Create(path, 4 * MiB, DiskImageFormat.Qcow2, Preallocation.Metadata);
        long length = new FileInfo(path).Length;
        QemuImg.Io(path, "qcow2", "write -P 0x5a 1M 64k");
        using (var disk = Qcow2BlockBackendReadTests.Open(path))
        {
            byte[] data = new byte[65536];
            disk.Read(1 << 20, data).Should().BeTrue();
            data.Should().OnlyContain(b => b == 0x5a);
            disk.Write(2 << 20, data).Should().BeTrue();
            disk.AllocatedClusters.Should().Be(0, "every cluster was mapped at creation");
        }

        new FileInfo(path).Length.Should().Be(length);
        QemuImg.CheckClean(path);
        QemuImg.ContentsAsRaw(path).AsSpan(2 << 20, 65536).ToArray().Should().OnlyContain(b => b == 0x5a);
    }

    [Theory]
    [InlineData(0, "needs a size")]
    [InlineData(-MiB, "needs a size")]
    [InlineData(MiB + 512, "not a whole number of MiB")]
    [InlineData(65L << 40, "more than the largest disk")]
    public void A_bad_size_is_refused_and_nothing_is_written(long size, string reason)
    {
        string path = _dir["disk.qcow2"];
        var create = () => DiskImageCreator.Create(path, size, DiskImageFormat.Qcow2, Preallocation.Off);
        create.Should().Throw<DiskImageException>().WithMessage($"*{reason}*");
        Directory.GetFileSystemEntries(_dir.Path).Should().BeEmpty();
    }

    [Fact]
    public void Raw_metadata_preallocation_and_an_existing_file_are_refused()
    {
        string path = _dir["disk.raw"];
        var raw = () => DiskImageCreator.Create(path, MiB, DiskImageFormat.Raw, Preallocation.Metadata);
        raw.Should().Throw<DiskImageException>().WithMessage("*raw image has no metadata to preallocate*");

        File.WriteAllText(path, "precious");
        var again = () => DiskImageCreator.Create(path, MiB, DiskImageFormat.Raw, Preallocation.Off);
        again.Should().Throw<DiskImageException>().WithMessage("*already exists*");
        File.ReadAllText(path).Should().Be("precious");
    }

    [Fact]
    public void More_than_the_file_system_has_free_is_refused_before_anything_is_written()
    {
        long free = new DriveInfo(_dir.Path).AvailableFreeSpace;
        long size = Math.Min(DiskImageCreator.MaxSizeBytes, ((free / MiB) + 1024) * MiB);
        var create = () => DiskImageCreator.Create(_dir["big.raw"], size, DiskImageFormat.Raw, Preallocation.Full);
        create.Should().Throw<DiskImageException>().WithMessage("*needs*free*");
        Directory.GetFileSystemEntries(_dir.Path).Should().BeEmpty();
        DiskImageCreator.Create(_dir["thin.raw"], size, DiskImageFormat.Raw, Preallocation.Off); // sparse: takes nothing now
        new FileInfo(_dir["thin.raw"]).Length.Should().Be(size);
    }

    [Fact]
    public void A_cancelled_creation_leaves_nothing_behind()
    {
        using var cancel = new CancellationTokenSource();
        long reported = 0;
        var progress = new SynchronousProgress(bytes =>
        {
            reported = bytes;
            if (bytes >= 4 * MiB)
            {
                cancel.Cancel();
            }
        });
        var create = () => DiskImageCreator.Create(_dir["big.raw"], 64 * MiB, DiskImageFormat.Raw, Preallocation.Full, progress, cancel.Token);
        create.Should().Throw<OperationCanceledException>();
        reported.Should().Be(4 * MiB);
        Directory.GetFileSystemEntries(_dir.Path).Should().BeEmpty();
    }

    [Fact]
    public void The_space_a_new_image_needs_is_known_before_it_is_written()
    {
        DiskImageCreator.RequiredBytes(64L << 30, DiskImageFormat.Raw, Preallocation.Off).Should().Be(0);
        DiskImageCreator.RequiredBytes(64L << 30, DiskImageFormat.Raw, Preallocation.Full).Should().Be(64L << 30);
        long metadata = DiskImageCreator.RequiredBytes(64L << 30, DiskImageFormat.Qcow2, Preallocation.Metadata);
        metadata.Should().BeInRange(8 * MiB, 16 * MiB, "128 L2 tables and the refcount blocks for a million clusters");
        DiskImageCreator.RequiredBytes(64L << 30, DiskImageFormat.Qcow2, Preallocation.Full).Should().Be((64L << 30) + metadata);
    }

    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
