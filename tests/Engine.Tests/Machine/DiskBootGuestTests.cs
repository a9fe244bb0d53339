using System.Buffers.Binary;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Boot.Disk;
using Platform.Engine.Host;
using Platform.Engine.Kvm;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Boot.Disk;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// Booting from a disk for real: images made by mke2fs with the test guests' PVH kernels inside, booted under
// /dev/kvm; the guest prints the command line it was given, which is the configuration's plus --append.
public sealed class DiskBootGuestTests : IDisposable
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);
    private readonly Owned _owned = new();

    public void Dispose() => _owned.Dispose();

    private GuestTree Tree()
    {
        return _owned.Add(new GuestTree());
    }

    private BootDisk Disk()
    {
        return _owned.Add(new BootDisk(64L << 20));
    }

    private static readonly BootDisk.Part Root = new(BootDisk.FirstPartitionSector, (48L << 20) / 512);

    [Fact]
    public async Task Grub_cfg_on_gpt_boots_the_test_guest_with_its_command_line_and_the_appended_words()
    {
        var disk = Disk();
        disk.WriteGpt(Root);
        disk.Format(Root, Tree()
            .CopyFile("/boot/hello.elf", TestGuests.Path("hello"))
            .File("/boot/grub/grub.cfg", "set default=0\nmenuentry 'Test guest' {\n\tlinux /boot/hello.elf marker=from-grub-cfg\n}\n").Root);
        var serial = new SerialCapture();

        using var machine = MachineInstance.Create(new MachineConfig
        {
            Boot = BootSource.Disk,
            Disks = [new DiskOptions(disk.Path)],
            CommandLine = "extra=appended",
            MemoryBytes = 64ul << 20,
            Display = DisplayKind.None,
        }, serial);
        machine.Start();

        string output = await serial.WaitForAsync("PLATFORM-TEST hello PASS", GuestTimeout);
        output.Should().Contain("cmdline: marker=from-grub-cfg extra=appended");
        machine.BootedFromDisk!.Source.Should().Be("GRUB /boot/grub/grub.cfg, entry 'Test guest'");
        machine.BootedFromDisk.Device.Should().Be("/dev/vda1");
        (await machine.Exited.WaitAsync(GuestTimeout, TestContext.Current.CancellationToken)).Reason.Should().Be(MachineExitReason.Reset);
    }

    [Fact]
    public async Task Debian_links_on_a_logical_partition_boot_with_root_and_the_initrd_reaches_the_guest()
    {
        var disk = Disk();
        var logical = new BootDisk.Part(2 * BootDisk.FirstPartitionSector, (40L << 20) / 512);
        disk.WriteMbrWithLogical([new BootDisk.Part(BootDisk.FirstPartitionSector, 1024, 0x82)], logical);
        byte[] initrd = Ext4FileSystemTests.Pattern(123_457, seed: 5);
        disk.Format(logical, Tree()
            .CopyFile("/boot/vmlinuz-1.0-test", TestGuests.Path("hello"))
            .File("/boot/initrd.img-1.0-test", initrd)
            .Symlink("/vmlinuz", "boot/vmlinuz-1.0-test")
            .Symlink("/initrd.img", "boot/initrd.img-1.0-test")
            .Folder("/etc").Root, "-t", "ext3");
        var serial = new SerialCapture();

        using var machine = MachineInstance.Create(new MachineConfig
        {
            Boot = BootSource.Disk,
            Disks = [new DiskOptions(disk.Path, ReadOnly: true)],
            CommandLine = "end=halt",
            MemoryBytes = 64ul << 20,
            Display = DisplayKind.None,
        }, serial);
        machine.Start();

        string output = await serial.WaitForAsync("PLATFORM-TEST hello PASS", GuestTimeout);
        output.Should().Contain("cmdline: root=/dev/vda5 ro console=ttyS0 end=halt");
        // The initrd is the PVH start info's one module: its address and size, and the bytes there.
        var module = machine.Memory.GetSpan(MemoryLayout.PvhModuleList, 16);
        ulong address = BinaryPrimitives.ReadUInt64LittleEndian(module);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(module[8..]);
        size.Should().Be((ulong)initrd.Length);
        machine.Memory.GetSpan(address, initrd.Length).ToArray().Should().Equal(initrd);
    }

    [Fact]
    public async Task A_reboot_reads_the_disk_again_and_boots_the_kernel_the_guest_installed()
    {
        var disk = Disk();
        disk.WriteMbr(Root);
        disk.Format(Root, Tree()
            .CopyFile("/boot/hello-1.elf", TestGuests.Path("hello"))
            .File("/loader/entries/test-1.conf", "linux /hello-1.elf\noptions generation=first\n").Root);
        var serial = new SerialCapture();
        var log = new StringWriter();
        using var host = new VmmHost(new MachineConfig
        {
            Boot = BootSource.Disk,
            Disks = [new DiskOptions(disk.Path)],
            MemoryBytes = 64ul << 20,
            OnReboot = RebootPolicy.Restart,
            Display = DisplayKind.None,
        }, serial) { Log = log };
        // "Install" a new kernel while the first boot is down: the guest resets after its verdict, and the machine is
        // rebuilt after the RESET event.
        host.Event += e =>
        {
            if (e.Kind == VmmEventKind.Reset && host.Boots == 1)
            {
                using var next = new GuestTree();
                next.CopyFile("/boot/hello-1.elf", TestGuests.Path("hello"))
                    .CopyFile("/boot/hello-2.elf", TestGuests.Path("hello"))
                    .File("/loader/entries/test-1.conf", "linux /hello-1.elf\noptions generation=first\n")
                    .File("/loader/entries/test-2.conf", "linux /hello-2.elf\noptions generation=second\n");
                disk.Format(Root, next.Root);
            }
        };
        var run = host.RunAsync();

        await serial.WaitForAsync("cmdline: generation=second", GuestTimeout);
        host.Quit();
        (await run.WaitAsync(GuestTimeout, TestContext.Current.CancellationToken)).Should().Be(VmmExitCode.PowerOff);
        serial.Text.Should().Contain("cmdline: generation=first");
        log.ToString().Should().Contain("platform-vmm: boot 1: disk 0: booting /boot/hello-1.elf from /dev/vda1 (Boot Loader Spec entry /loader/entries/test-1.conf)")
            .And.Contain("platform-vmm: boot 2: disk 0: booting /boot/hello-2.elf from /dev/vda1 (Boot Loader Spec entry /loader/entries/test-2.conf)");
    }

    [Fact]
    public async Task A_reboot_that_finds_nothing_to_boot_ends_the_vm_with_the_reason()
    {
        var disk = Disk();
        disk.WriteMbr(Root);
        disk.Format(Root, Tree().CopyFile("/boot/hello.elf", TestGuests.Path("hello")).Symlink("/vmlinuz", "boot/hello.elf").Root);
        var events = new List<VmmEvent>();
        using var host = new VmmHost(new MachineConfig
        {
            Boot = BootSource.Disk,
            Disks = [new DiskOptions(disk.Path)],
            MemoryBytes = 64ul << 20,
            OnReboot = RebootPolicy.Restart,
            Display = DisplayKind.None,
        }, new SerialCapture());
        host.Event += e =>
        {
            lock (events)
            {
                events.Add(e);
            }

            if (e.Kind == VmmEventKind.Reset)
            {
                disk.Format(Root, Tree().Folder("/etc").Root); // the guest "removed" its kernel
            }
        };

        var act = () => host.RunAsync().WaitAsync(GuestTimeout, TestContext.Current.CancellationToken);

        (await act.Should().ThrowAsync<Platform.Engine.Boot.BootException>())
            .WithMessage("The VM cannot boot again after its reset: disk 0: no partition with a boot configuration*partition 1: ext4, no boot configuration.");
        lock (events)
        {
            events.Should().ContainEquivalentOf(new VmmEvent(VmmEventKind.Shutdown, ControlProtocol.ShutdownReasons.BootFailed));
        }
    }

    [Fact]
    public void Disk_boot_without_a_disk_or_with_a_kernel_is_refused()
    {
        VmConfigValidator.Validate(new VmConfig { Boot = BootSource.Disk })
            .Should().ContainEquivalentOf(new ConfigProblem("disks", "boot is disk, so the first disk is booted: give one"));
        VmConfigValidator.Validate(new VmConfig { Boot = BootSource.Disk, Kernel = "/k", Disks = [new DiskConfig("/d")] })
            .Should().ContainEquivalentOf(new ConfigProblem("kernel", "must be left out when boot is disk: the VMM reads the kernel from the disk"));
        var unbuildable = () => MachineInstance.Create(new MachineConfig { Boot = BootSource.Disk }, Stream.Null);
        unbuildable.Should().Throw<ArgumentException>().WithMessage("A disk boot needs a disk*");
    }

    [Fact]
    public async Task Debian_kernel_from_a_disk_image_boots_to_the_initramfs_marker()
    {
        Assert.SkipWhen(KvmSystem.DetectKind() == KvmKind.Pvm, LinuxGuestBootTests.PvmReason);

        // The Debian kernel and initramfs in /boot, an extlinux.conf as a user would write it; the initramfs's init
        // runs the command and reboots.
        string command = Convert.ToBase64String("echo platform-linux-$((6*7))"u8);
        var disk = Disk();
        disk.WriteGpt(Root with { Name = "root" });
        disk.Format(Root, Tree()
            .CopyFile("/boot/vmlinuz-debian", GuestImages.Path("vmlinuz"))
            .CopyFile("/boot/initrd.img-debian", GuestImages.Path("initramfs.cpio.gz"))
            .File("/boot/extlinux/extlinux.conf", $"DEFAULT debian\nLABEL debian\n  LINUX ../vmlinuz-debian\n  INITRD ../initrd.img-debian\n  APPEND console=ttyS0 panic=-1 platform.cmd={command}\n").Root);
        var serial = new SerialCapture();

        using var machine = MachineInstance.Create(new MachineConfig
        {
            Boot = BootSource.Disk,
            Disks = [new DiskOptions(disk.Path)],
            MemoryBytes = 512ul << 20,
            CpuCount = 2,
        }, serial);
        machine.Start();

        await serial.WaitForAsync("PLATFORM-GUEST-READY", TimeSpan.FromSeconds(60));
        string output = await serial.WaitForAsync("PLATFORM-CMD-EXIT=0", TimeSpan.FromSeconds(30));
        output.Should().Contain("platform-linux-42");
    }
}
