using System.Diagnostics;
using System.Text;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Kvm;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine.Pci;

// The Debian kernel's own virtio_pci and virtio_blk drivers on our bus: it mounts the ext4 disk, writes a file,
// syncs, reboots; the host then finds the file in the image. Needs hardware KVM.
public sealed class LinuxVirtioBlockTests
{
    [Fact]
    public async Task Linux_mounts_the_ext4_disk_writes_a_file_and_the_host_reads_it_after_the_reboot()
    {
        Assert.SkipWhen(KvmSystem.DetectKind() == KvmKind.Pvm, LinuxGuestBootTests.PvmReason);
        Assert.SkipUnless(File.Exists("/usr/sbin/debugfs") || File.Exists("/sbin/debugfs"), "debugfs (e2fsprogs) reads the image on the host");

        string image = Path.Combine(Path.GetTempPath(), $"rootfs-{Guid.NewGuid():N}.ext4");
        File.Copy(GuestImages.Path("rootfs.ext4"), image);
        try
        {
            string stamp = Guid.NewGuid().ToString("N");
            string command = Convert.ToBase64String(Encoding.ASCII.GetBytes(
                $"echo {stamp} > /mnt/platform-virtio.txt && sync && cat /sys/block/vda/serial && grep -c virtio /proc/interrupts"));
            var serial = new SerialCapture();
            using (var machine = MachineInstance.Create(new MachineConfig
            {
                KernelPath = GuestImages.Path("vmlinuz"),
                InitrdPath = GuestImages.Path("initramfs.cpio.gz"),
                CommandLine = $"console=ttyS0 panic=-1 platform.root=/dev/vda platform.cmd={command}",
                MemoryBytes = 512ul << 20,
                CpuCount = 2,
                Disks = [new DiskOptions(image, Serial: "platform-root")],
                Rng = true,
            }, serial))
            {
                machine.Start();
                string output = await serial.WaitForAsync("PLATFORM-CMD-EXIT=", TimeSpan.FromSeconds(90));
                output.Should().Contain("mounted /dev/vda on /mnt").And.Contain("PLATFORM-CMD-EXIT=0");
                output.Should().Contain("platform-root", "the guest reads the disk's serial through GET_ID");
                var exit = await machine.Exited.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
                exit.Reason.Should().Be(MachineExitReason.Reset, "init reboots when the command is done");
                var blk = machine.GetDeviceStats().Single(d => d.Name == "disk0").Counters;
                blk["write_requests"].Should().BeGreaterThan(0);
                blk["errors"].Should().Be(0);
                machine.GetDeviceStats().Single(d => d.Name == "pci").Counters["msi_route_updates"].Should().BeGreaterThan(0,
                    "Linux's virtio_pci uses MSI-X");
            }

            (await DebugfsCatAsync(image, "/platform-virtio.txt")).Trim().Should().Be(stamp);
        }
        finally
        {
            File.Delete(image);
        }
    }

    private static async Task<string> DebugfsCatAsync(string image, string path)
    {
        var start = new ProcessStartInfo("debugfs") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "-R", $"cat {path}", image })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        string output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return output;
    }
}
