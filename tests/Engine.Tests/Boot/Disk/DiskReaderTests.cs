using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Qcow2;
using Platform.Engine.Boot;
using Platform.Engine.Boot.Disk;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Boot.Disk;

// Disk boot reads qcow2 images through the qcow2 backend: a compressed image as cloud images come, and a linked clone
// (an overlay over the raw disk) find the same kernel, initrd and command line as the raw disk itself.
public sealed class DiskReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diskreader-").FullName;
    private readonly byte[] _kernel = Ext4FileSystemTests.Pattern(150_001, seed: 21);
    private readonly byte[] _initrd = Ext4FileSystemTests.Pattern(40_003, seed: 22);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_compressed_qcow2_image_and_a_qcow2_overlay_boot_like_the_raw_disk()
    {
        using var disk = new BootDisk(48L << 20);
        var root = new BootDisk.Part(BootDisk.FirstPartitionSector, (40L << 20) / 512, Bootable: true);
        disk.WriteMbr(root);
        using var tree = new GuestTree();
        disk.Format(root, tree
            .File("/boot/vmlinuz-6.1.0-13-amd64", _kernel)
            .File("/boot/initrd.img-6.1.0-13-amd64", _initrd)
            .File("/boot/grub/grub.cfg", ConfigSamples.DebianGrub())
            .Folder("/etc").Root, "-U", ConfigSamples.RootUuid);
        var expected = DiskBoot.Load(disk.Path, 0, 256ul << 20);

        string compressed = Path.Combine(_dir, "cloud.qcow2");
        var (code, stdout, stderr) = QemuImg.Run("convert", "-c", "-f", "raw", "-O", "qcow2", disk.Path, compressed);
        code.Should().Be(0, stdout + stderr);
        string overlay = Path.Combine(_dir, "clone.qcow2");
        Qcow2Creator.Create(overlay, new FileInfo(disk.Path).Length, disk.Path, DiskImageFormat.Raw);

        foreach (var (image, format) in new[] { (compressed, (DiskImageFormat?)null), (overlay, DiskImageFormat.Qcow2) })
        {
            var loaded = DiskBoot.Load(image, 0, 256ul << 20, format);
            loaded.Kernel.ToArray().Should().Equal(_kernel, image);
            loaded.Initrd.ToArray().Should().Equal(_initrd);
            loaded.Info.CommandLine.Should().Be(expected.Info.CommandLine);
            loaded.Info.Source.Should().Be(expected.Info.Source);
        }
    }

    [Fact]
    public void A_corrupt_qcow2_image_is_a_boot_failure_that_says_why()
    {
        string image = Path.Combine(_dir, "bad.qcow2");
        Qcow2Creator.Create(image, 1 << 20);
        using (var file = File.OpenHandle(image, FileMode.Open, FileAccess.Write))
        {
            RandomAccess.Write(file, new byte[] { 0, 0, 0, 22 }, 20); // cluster_bits 22
        }

        var load = () => DiskBoot.Load(image, 0, 64ul << 20);
        load.Should().Throw<BootException>().WithMessage("disk 0: *cluster_bits is 22*");
    }

    [Fact]
    public void Format_raw_reads_a_qcow2_file_as_its_bytes_as_the_guest_would_see_them()
    {
        using var disk = new BootDisk(48L << 20);
        using var tree = new GuestTree();
        disk.FormatWholeDisk(tree.File("/boot/vmlinuz", _kernel).Symlink("/vmlinuz", "boot/vmlinuz").Root);
        string qcow2 = Path.Combine(_dir, "whole.qcow2");
        var (code, stdout, stderr) = QemuImg.Run("convert", "-f", "raw", "-O", "qcow2", disk.Path, qcow2);
        code.Should().Be(0, stdout + stderr);

        var asRaw = () => DiskBoot.Load(qcow2, 0, 256ul << 20, DiskImageFormat.Raw);

        asRaw.Should().Throw<BootException>().WithMessage("*the whole disk: neither a partition table nor an ext2/3/4 file system.");
        DiskBoot.Load(qcow2, 0, 256ul << 20).Kernel.ToArray().Should().Equal(_kernel, "detected, it is qcow2");
    }
}
