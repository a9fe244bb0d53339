using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Qcow2;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine.Pci;

// The blk test guest on qcow2 disks under /dev/kvm: its writes land in a qcow2 overlay (copy-on-write from a raw
// backing file, 16 requests in flight), qemu-img finds the image clean, and a host-side read shows the pattern.
public sealed class VirtioQcow2GuestTests : IDisposable
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("qcow2-guest-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(DiskCacheMode.Writeback)]
    [InlineData(DiskCacheMode.None)]
    public async Task The_guest_writes_and_reads_a_qcow2_overlay_and_qemu_img_reads_the_same(DiskCacheMode cache)
    {
        const int Size = 16 << 20;
        byte[] backing = new byte[Size];
        new Random(42).NextBytes(backing);
        File.WriteAllBytes(Path.Combine(_dir, "base.raw"), backing);
        string overlay = Path.Combine(_dir, "overlay.qcow2");
        Qcow2Creator.Create(overlay, Size, "base.raw");

        var serial = new SerialCapture();
        using (var machine = MachineInstance.Create(new MachineConfig
        {
            KernelPath = TestGuests.Path("blk"),
            CommandLine = "mode=deep qd=16 sector=9 count=15 writes=96 seed=0x7c02", // unaligned to clusters: copy-on-write at both ends
            MemoryBytes = 64ul << 20,
            Display = DisplayKind.None,
            Disks = [new DiskOptions(overlay, Cache: cache)],
        }, serial))
        {
            machine.Start();
            string output = await serial.WaitForAsync("PLATFORM-TEST blk PASS", GuestTimeout);
            output.Should().Contain("with 16 in flight, flushed, read back equal");
            var disk = machine.GetDeviceStats().Single(d => d.Name == "disk0");
            disk.Format.Should().Be("qcow2");
            disk.Counters["virtual_bytes"].Should().Be(Size);
            disk.Counters["allocated_clusters"].Should().BePositive();
            disk.Counters["copy_on_writes"].Should().BePositive("the first and last clusters keep backing data around the writes");
            disk.Counters["failed_requests"].Should().Be(0);
            disk.Counters["max_in_flight"].Should().BeGreaterThan(1);
        }

        var check = QemuImg.Check(overlay);
        check.ExitCode.Should().Be(0, check.Output);
        byte[] contents = QemuImg.ContentsAsRaw(overlay);
        DiskImage.FirstSectorWithoutPattern(contents.AsSpan(9 * 512, 96 * 15 * 512), 0x7c02, 9).Should().Be(-1);
        contents.AsSpan(0, 9 * 512).SequenceEqual(backing.AsSpan(0, 9 * 512)).Should().BeTrue("before the writes the backing file shows through");
        int end = (9 + (96 * 15)) * 512;
        contents.AsSpan(end).SequenceEqual(backing.AsSpan(end)).Should().BeTrue("after them too");
    }
}
