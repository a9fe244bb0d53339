using System.Text;
using Platform.Engine.Boot;
using Platform.Engine.Boot.Disk;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Boot.Disk;

// Whole disks as installers lay them out (MBR and GPT, a separate /boot, whole-disk file systems), searched for the
// boot entry and read into kernel, initrd and command line.
public sealed class DiskBootTests : IDisposable
{
    private const ulong Memory = 256ul << 20;
    private readonly Owned _owned = new();
    private readonly byte[] _kernel = Ext4FileSystemTests.Pattern(200_003, seed: 11);
    private readonly byte[] _initrd = Ext4FileSystemTests.Pattern(70_001, seed: 12);

    public void Dispose() => _owned.Dispose();

    private GuestTree Tree()
    {
        return _owned.Add(new GuestTree());
    }

    private BootDisk Disk(long megabytes = 96)
    {
        return _owned.Add(new BootDisk(megabytes << 20));
    }

    private static BootDisk.Part Part(int index, long megabytes = 40, byte type = 0x83, Guid? gpt = null, bool bootable = false) =>
        new(BootDisk.FirstPartitionSector + (index * (44L << 20) / 512), (megabytes << 20) / 512, type, gpt, bootable);

    [Fact]
    public void Debian_root_with_grub_cfg_on_mbr()
    {
        var disk = Disk();
        var root = Part(0, bootable: true);
        disk.WriteMbr(root);
        disk.Format(root, Tree()
            .File("/boot/vmlinuz-6.1.0-13-amd64", _kernel)
            .File("/boot/initrd.img-6.1.0-13-amd64", _initrd)
            .File("/boot/grub/grub.cfg", ConfigSamples.DebianGrub())
            .Symlink("/vmlinuz", "boot/vmlinuz-6.1.0-13-amd64")
            .Folder("/etc").Root, "-U", ConfigSamples.RootUuid);

        var image = DiskBoot.Load(disk.Path, 0, Memory);

        image.Kernel.ToArray().Should().Equal(_kernel);
        image.Initrd.ToArray().Should().Equal(_initrd);
        image.Info.Source.Should().Be("GRUB /boot/grub/grub.cfg, entry 'Debian GNU/Linux'", "a grub.cfg wins over the /vmlinuz link");
        image.Info.Device.Should().Be("/dev/vda1");
        image.Info.FileSystem.Should().Be("ext4");
        image.Info.KernelPath.Should().Be("/boot/vmlinuz-6.1.0-13-amd64");
        image.Info.InitrdPaths.Should().Equal("/boot/initrd.img-6.1.0-13-amd64");
        image.Info.CommandLine.Should().Be($"root=UUID={ConfigSamples.RootUuid} ro quiet");
        image.Info.Notes.Should().BeEmpty();
        image.Info.Describe("console=ttyS0").Should().Equal(
            "disk 0: boots from partition 1 (/dev/vda1, ext4)",
            "  found: GRUB /boot/grub/grub.cfg, entry 'Debian GNU/Linux'",
            "  kernel: /boot/vmlinuz-6.1.0-13-amd64 (195.3 KiB)",
            "  initrd: /boot/initrd.img-6.1.0-13-amd64 (68.4 KiB)",
            $"  command line: root=UUID={ConfigSamples.RootUuid} ro quiet console=ttyS0");
    }

    [Fact]
    public void Separate_boot_partition_on_gpt_with_grub_paths_relative_to_it()
    {
        var disk = Disk();
        var boot = Part(0, 20);
        var root = Part(1);
        disk.WriteGpt(boot with { Name = "boot" }, root with { Name = "root" });
        disk.Format(root, Tree().File("/etc/fstab", "").Symlink("/vmlinuz", "boot/vmlinuz-6.1.0-13-amd64").Root, "-U", ConfigSamples.RootUuid);
        disk.Format(boot, Tree()
            .File("/vmlinuz-6.1.0-13-amd64", _kernel)
            .File("/initrd.img-6.1.0-13-amd64", _initrd)
            .File("/grub/grub.cfg", ConfigSamples.DebianGrub(kernelPrefix: "", uuid: ConfigSamples.BootUuid)).Root,
            "-t", "ext2", "-U", ConfigSamples.BootUuid);

        var image = DiskBoot.Load(disk.Path, 0, Memory);

        image.Info.Device.Should().Be("/dev/vda1");
        image.Info.FileSystem.Should().Be("ext2");
        image.Info.KernelPath.Should().Be("/vmlinuz-6.1.0-13-amd64");
        image.Kernel.ToArray().Should().Equal(_kernel);
        image.Info.CommandLine.Should().Be($"root=UUID={ConfigSamples.RootUuid} ro quiet");
    }

    [Fact]
    public void Grub_search_by_uuid_finds_the_kernel_on_another_partition()
    {
        // grub.cfg on the root file system whose entries search for the /boot partition by UUID (paths relative to it).
        var disk = Disk();
        var boot = Part(0, 20);
        var root = Part(1);
        disk.WriteMbr(boot, root with { Bootable = true });
        disk.Format(boot, Tree().File("/vmlinuz-6.1.0-13-amd64", _kernel).File("/initrd.img-6.1.0-13-amd64", _initrd).Root,
            "-U", ConfigSamples.BootUuid);
        disk.Format(root, Tree().File("/boot/grub/grub.cfg", ConfigSamples.DebianGrub(kernelPrefix: "", uuid: ConfigSamples.BootUuid)).Root,
            "-U", ConfigSamples.RootUuid);

        var image = DiskBoot.Load(disk.Path, 0, Memory);

        image.Info.Source.Should().StartWith("GRUB /boot/grub/grub.cfg");
        image.Info.Partition.Number.Should().Be(1, "the kernel is on the partition the search names");
        image.Kernel.ToArray().Should().Equal(_kernel);
    }

    [Fact]
    public void Fedora_boot_loader_spec_entries_on_a_boot_partition_newest_first_with_grubenv_options()
    {
        var disk = Disk();
        var boot = Part(0, 20);
        var root = Part(1);
        disk.WriteGpt(boot, root);
        disk.Format(root, Tree().Folder("/etc").Root);
        disk.Format(boot, Tree()
            .File("/vmlinuz-6.8.5-301.fc40.x86_64", _kernel)
            .File("/initramfs-6.8.5-301.fc40.x86_64.img", _initrd)
            .File("/vmlinuz-6.7.9-200.fc39.x86_64", [1, 2, 3])
            .File("/initramfs-6.7.9-200.fc39.x86_64.img", [4])
            .File("/loader/entries/0a1b-6.8.5-301.fc40.x86_64.conf", ConfigSamples.FedoraEntry("6.8.5-301.fc40.x86_64", "$kernelopts"))
            .File("/loader/entries/0a1b-6.7.9-200.fc39.x86_64.conf", ConfigSamples.FedoraEntry("6.7.9-200.fc39.x86_64"))
            .File("/grub2/grubenv", "# GRUB Environment Block\nkernelopts=root=UUID=abc ro rhgb quiet\n" + new string('#', 950))
            .File("/grub2/grub.cfg", "blscfg\n").Root);

        var image = DiskBoot.Load(disk.Path, 0, Memory);

        image.Info.Source.Should().Be("Boot Loader Spec entry /loader/entries/0a1b-6.8.5-301.fc40.x86_64.conf ('Fedora Linux (6.8.5-301.fc40.x86_64) 39 (Server Edition)')");
        image.Info.KernelPath.Should().Be("/vmlinuz-6.8.5-301.fc40.x86_64");
        image.Info.CommandLine.Should().Be("root=UUID=abc ro rhgb quiet");
        image.Kernel.ToArray().Should().Equal(_kernel);
        image.Initrd.ToArray().Should().Equal(_initrd);
    }

    [Fact]
    public void Extlinux_on_a_whole_disk_file_system_like_a_firecracker_root_image()
    {
        var disk = Disk(48);
        disk.FormatWholeDisk(Tree()
            .File("/boot/vmlinuz-6.1", _kernel)
            .File("/boot/initrd.img-6.1", _initrd)
            .File("/boot/extlinux/extlinux.conf", ConfigSamples.Extlinux).Root, "-t", "ext2");

        var image = DiskBoot.Load(disk.Path, 0, Memory);

        image.Info.Partition.Number.Should().Be(0);
        image.Info.Device.Should().Be("/dev/vda");
        image.Info.Source.Should().Be("extlinux /boot/extlinux/extlinux.conf, label linux");
        image.Info.KernelPath.Should().Be("/boot/vmlinuz-6.1");
        image.Info.CommandLine.Should().Be("root=/dev/vda1 ro console=ttyS0 quiet");
        image.Initrd.ToArray().Should().Equal(_initrd);
    }

    [Fact]
    public void Debian_links_on_a_logical_partition_boot_with_root_that_partition()
    {
        var disk = Disk(128);
        var swap = Part(0, 8, type: 0x82);
        var root = Part(1);
        disk.WriteMbrWithLogical([swap], root);
        disk.Format(root, Tree()
            .File("/boot/vmlinuz-6.1.0-13-amd64", _kernel)
            .File("/boot/initrd.img-6.1.0-13-amd64", _initrd)
            .Symlink("/vmlinuz", "boot/vmlinuz-6.1.0-13-amd64")
            .Symlink("/initrd.img", "boot/initrd.img-6.1.0-13-amd64")
            .Folder("/etc").Root, "-O", "^extent,^64bit");

        var image = DiskBoot.Load(disk.Path, 0, Memory);

        image.Info.Source.Should().Be("Debian's /vmlinuz link (no boot configuration)");
        image.Info.Device.Should().Be("/dev/vda5");
        image.Info.KernelPath.Should().Be("/boot/vmlinuz-6.1.0-13-amd64");
        image.Info.CommandLine.Should().Be("root=/dev/vda5 ro console=ttyS0");
        image.Kernel.ToArray().Should().Equal(_kernel);
        image.Initrd.ToArray().Should().Equal(_initrd);
    }

    [Fact]
    public void Debian_links_on_a_separate_boot_partition_give_root_the_partition_with_etc()
    {
        var disk = Disk();
        var boot = Part(0, 20);
        var root = Part(1);
        disk.WriteMbr(boot, root);
        disk.Format(boot, Tree().File("/vmlinuz-6.1", _kernel).Symlink("/vmlinuz", "vmlinuz-6.1").Root);
        disk.Format(root, Tree().File("/etc/fstab", "").Root);

        var image = DiskBoot.Load(disk.Path, 0, Memory);

        image.Info.Device.Should().Be("/dev/vda1", "the kernel is there");
        image.Info.CommandLine.Should().Be("root=/dev/vda2 ro console=ttyS0");
        image.Info.InitrdPaths.Should().BeEmpty();
        image.Info.Notes.Should().Equal(
            "/initrd.img is missing: booting without an initrd",
            "/vmlinuz is on partition 1, which has no /etc; root= is partition 2, which has");
    }

    [Fact]
    public void Several_initrds_are_loaded_one_after_another_each_padded_to_four_bytes()
    {
        var disk = Disk(48);
        disk.FormatWholeDisk(Tree()
            .File("/boot/vmlinuz", _kernel)
            .File("/boot/ucode.cpio", "12345")
            .File("/boot/initrd", "abcdefg")
            .File("/boot/loader/entries/a.conf", "linux /vmlinuz\ninitrd /ucode.cpio\ninitrd /initrd\noptions x=1\n").Root);

        var image = DiskBoot.Load(disk.Path, 0, Memory);

        image.Info.Source.Should().Be("Boot Loader Spec entry /boot/loader/entries/a.conf");
        image.Info.InitrdPaths.Should().Equal("/boot/ucode.cpio", "/boot/initrd");
        Encoding.ASCII.GetString(image.Initrd.Span).Should().Be("12345\0\0\0abcdefg");
    }

    [Fact]
    public void Nothing_bootable_says_what_each_partition_held()
    {
        var disk = Disk();
        var esp = Part(0, 20, gpt: BootDisk.EfiSystem);
        var root = Part(1);
        disk.WriteGpt(esp, root, Part(2, 1, gpt: BootDisk.LinuxSwap));
        disk.Format(root, Tree().File("/etc/hostname", "vm\n").Root);

        var act = () => DiskBoot.Load(disk.Path, 0, Memory);

        act.Should().Throw<BootException>().WithMessage(
            "disk 0: no partition with a boot configuration (Boot Loader Spec entries, extlinux.conf, grub.cfg, or /vmlinuz): " +
            "partition 1: an EFI system partition, not ext2/3/4 (FAT is not read); partition 2: ext4, no boot configuration.");
    }

    [Fact]
    public void An_empty_disk_has_neither_table_nor_file_system()
    {
        var act = () => DiskBoot.Load(Disk(8).Path, 0, Memory);

        act.Should().Throw<BootException>().WithMessage("disk 0: no partition with a boot configuration (*): the whole disk: neither a partition table nor an ext2/3/4 file system.");
    }

    [Fact]
    public void A_configuration_that_names_a_missing_kernel_is_an_error()
    {
        var disk = Disk(48);
        disk.FormatWholeDisk(Tree().File("/boot/grub/grub.cfg", "menuentry 'Gone' {\n linux /boot/vmlinuz-old root=/dev/vda\n}\n").Root);

        var act = () => DiskBoot.Load(disk.Path, 0, Memory);

        act.Should().Throw<BootException>().WithMessage(
            "disk 0: GRUB /boot/grub/grub.cfg, entry 'Gone' names the kernel /boot/vmlinuz-old, which is not there (looked for /boot/vmlinuz-old, /boot/boot/vmlinuz-old, /vmlinuz-old).");
    }

    [Fact]
    public void A_kernel_larger_than_the_vm_memory_is_refused()
    {
        var disk = Disk(48);
        disk.FormatWholeDisk(Tree().File("/boot/vmlinuz-6.1", _kernel).Symlink("/vmlinuz", "boot/vmlinuz-6.1").Root);

        var act = () => DiskBoot.Load(disk.Path, 0, 100_000);

        act.Should().Throw<BootException>().WithMessage("disk 0: ext4: /boot/vmlinuz-6.1 is 195.3 KiB, more than the VM's memory (97.7 KiB)");
    }

    [Fact]
    public void A_damaged_partition_is_passed_over_for_a_good_one_and_named_when_none_boots()
    {
        var disk = Disk();
        var first = Part(0, 20, bootable: true);
        var second = Part(1);
        disk.WriteMbr(first, second);
        disk.Format(first, Tree().File("/boot/grub/grub.cfg", "menuentry a {\n linux /vmlinuz\n}\n").Root, "-b", "4096");
        disk.Format(second, Tree().File("/boot/vmlinuz-6.1", _kernel).Symlink("/vmlinuz", "boot/vmlinuz-6.1").Folder("/etc").Root);
        long block = disk.BlockOf(first.Offset, "/boot", 0);
        disk.WriteAt(first.Offset + (block * 4096) + 4, [0, 0]); // /boot's "." record length: 0

        var image = DiskBoot.Load(disk.Path, 0, Memory);
        image.Info.Device.Should().Be("/dev/vda2");

        disk.WriteAt(second.Offset + 1024 + 0x38, [0, 0]); // the second one's superblock magic
        var act = () => DiskBoot.Load(disk.Path, 0, Memory);
        act.Should().Throw<BootException>().WithMessage(
            "*partition 1: ext4: directory inode *, block 0: the entry at offset 0 has record length 0 *; partition 2: not an ext2/3/4 file system.");
    }

    [Fact]
    public void Configuration_path_candidates_cover_a_separate_boot_partition_and_grub_devices()
    {
        DiskBootFinder.Candidates("/vmlinuz", null).Should().Equal("/vmlinuz", "/boot/vmlinuz");
        DiskBootFinder.Candidates("/boot/vmlinuz", null).Should().Equal("/boot/vmlinuz", "/boot/boot/vmlinuz", "/vmlinuz");
        DiskBootFinder.Candidates("/vmlinuz", "/boot").Should().Equal("/boot/vmlinuz", "/vmlinuz");
        DiskBootFinder.Candidates("../vmlinuz", "/boot/extlinux").Should().Equal("/boot/extlinux/../vmlinuz", "/../vmlinuz", "/boot/../vmlinuz");
        DiskBootFinder.Candidates("(hd0,msdos1)/vmlinuz", null).Should().Equal("/vmlinuz", "/boot/vmlinuz");
    }
}
