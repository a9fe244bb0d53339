using System.Text.Json;
using Platform.Devices.Tests.Virtio.Block.Qcow2;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Images;

namespace Platform.Devices.Tests.Virtio.Block.Images;

public sealed class DiskImageResizerTests : IDisposable
{
    private const long MiB = 1 << 20;
    private readonly ImageFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("cluster_size=65536", 8 * MiB, 16 * MiB)] // the L1 table has room: only the size changes
    [InlineData("cluster_size=4096", 4 * MiB, 100 * MiB)] // 2 MiB per L1 entry: a new, bigger L1 table
    [InlineData("cluster_size=512,refcount_bits=64", MiB, 40 * MiB)] // a multi-cluster L1 table and refcount growth
    public void A_grown_qcow2_image_keeps_its_data_and_is_clean(string options, long size, long newSize)
    {
        string image = _dir["disk.qcow2"];
        QemuImg.Create(image, $"{size}", options);
        QemuImg.Io(image, "qcow2", $"write -P 0x3c 0 {size / 2}");
        byte[] before = QemuImg.ContentsAsRaw(image);

        DiskImageResizer.Grow(image, newSize);

        QemuImg.CheckClean(image);
        using var info = JsonDocument.Parse(QemuImg.Img("info", "--output=json", image));
        info.RootElement.GetProperty("virtual-size").GetInt64().Should().Be(newSize);
        QemuImg.Io(image, "qcow2", $"write -P 0x4d {newSize - (64 * 1024)} 64k");
        QemuImg.CheckClean(image);
        byte[] after = QemuImg.ContentsAsRaw(image);
        after.AsSpan(0, before.Length).SequenceEqual(before).Should().BeTrue();
        after.AsSpan(before.Length, (int)(newSize - before.Length - 65536)).IndexOfAnyExcept((byte)0).Should().Be(-1, "the new space reads as zeros");
        after.AsSpan((int)newSize - 65536).ToArray().Should().OnlyContain(b => b == 0x4d);
    }

    [Fact]
    public void A_grown_raw_image_is_longer_and_sparse()
    {
        string image = _dir["disk.raw"];
        DiskImageCreator.Create(image, 4 * MiB, DiskImageFormat.Raw, Preallocation.Off);
        DiskImageResizer.Grow(image, 1L << 30);
        var info = DiskImages.Inspect(image);
        info.VirtualSizeBytes.Should().Be(1L << 30);
        info.AllocatedBytes.Should().BeLessThan(MiB);
    }

    [Theory]
    [InlineData("disk.qcow2")]
    [InlineData("disk.raw")]
    public void Shrinking_an_unaligned_size_and_a_disk_in_use_are_refused_with_the_reason(string name)
    {
        string image = _dir[name];
        DiskImageCreator.Create(image, 8 * MiB, name.EndsWith("qcow2", StringComparison.Ordinal) ? DiskImageFormat.Qcow2 : DiskImageFormat.Raw, Preallocation.Off);
        var shrink = () => DiskImageResizer.Grow(image, 4 * MiB);
        shrink.Should().Throw<DiskImageException>().WithMessage("*shrinking a disk from 8 MiB*to 4 MiB*is refused*lose*");
        var odd = () => DiskImageResizer.Grow(image, (16 * MiB) + 100);
        odd.Should().Throw<DiskImageException>().WithMessage("*not a whole number of 512-byte sectors*");
        var huge = () => DiskImageResizer.Grow(image, 1L << 50);
        huge.Should().Throw<DiskImageException>().WithMessage("*more than the largest disk*");
        using (File.Open(image, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var busy = () => DiskImageResizer.Grow(image, 16 * MiB);
            busy.Should().Throw<DiskImageException>().WithMessage("*in use*");
        }

        DiskImages.Inspect(image).VirtualSizeBytes.Should().Be(8 * MiB);
    }
}
