using System.Text.RegularExpressions;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Host;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine.Pci;

// The test guests' virtio driver against the real machine: PCI discovery, MSI-X through irqfds, INTx through the
// MP table, notifications through ioeventfds, and what lands in the image file.
public sealed class VirtioGuestTests
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);

    private static MachineInstance Boot(string guest, SerialCapture serial, string commandLine, Func<MachineConfig, MachineConfig> devices)
    {
        var machine = MachineInstance.Create(devices(new MachineConfig
        {
            KernelPath = TestGuests.Path(guest),
            CommandLine = commandLine,
            MemoryBytes = 64ul << 20,
            // No display: its 16 MiB BAR would be placed first and move the virtio BARs these tests expect at 0xE0000000.
            Display = DisplayKind.None,
        }), serial);
        machine.Start();
        return machine;
    }

    private static Dictionary<string, long> Counters(MachineInstance machine, string device) =>
        machine.GetDeviceStats().Single(d => d.Name == device).Counters.ToDictionary();

    [Fact]
    public async Task The_guest_finds_the_host_bridge_and_each_virtio_function_with_BARs_in_the_window_and_INTx_routes()
    {
        using var disk = new DiskImage(1 << 20);
        var serial = new SerialCapture();
        using var machine = Boot("pci", serial, "", c => c with { Disks = [new DiskOptions(disk.Path)], Rng = true });

        string output = await serial.WaitForAsync("PLATFORM-TEST pci PASS", GuestTimeout);
        output.Should().Contain("pci: 00:00.0 8086:0d57 class 060000");
        output.Should().Contain("pci: 00:01.0 1af4:1042 class 010000 INTA -> IOAPIC pin 17");
        output.Should().Contain("pci: 00:02.0 1af4:1044 class 00ff00 INTA -> IOAPIC pin 18");
        output.Should().Contain("BAR0 0xe0000000 size 0x8000 64-bit").And.Contain("BAR0 0xe0008000 size 0x8000 64-bit");
        output.Should().Contain("MSI-X at 0x40: 2 vectors, table BAR0+0x4000");
    }

    [Theory]
    [InlineData("msix")]
    [InlineData("intx")]
    [InlineData("poll")]
    public async Task Written_sectors_reach_the_image_file(string irq)
    {
        using var disk = new DiskImage(16 << 20);
        var serial = new SerialCapture();
        using (var machine = Boot("blk", serial, $"irq={irq} sector=8 count=16 writes=4 seed=0x1234",
            c => c with { Disks = [new DiskOptions(disk.Path, Serial: "disk-one")] }))
        {
            string output = await serial.WaitForAsync("PLATFORM-TEST blk PASS", GuestTimeout);
            output.Should().Contain("blk: disk 0 at 00:01.0: 32768 sectors").And.Contain("blk: serial 'disk-one'");
            output.Should().Contain("blk: wrote 4 x 16 sectors from 8, flushed, read back equal");

            var blk = Counters(machine, "disk0");
            blk["write_requests"].Should().Be(4);
            blk["write_bytes"].Should().Be(4 * 16 * 512);
            blk["read_requests"].Should().Be(4);
            blk["flush_requests"].Should().Be(1);
            blk["errors"].Should().Be(0);
            blk["notifications"].Should().BeGreaterThanOrEqualTo(10, "every request was kicked");
            var pci = Counters(machine, "pci");
            pci["ioeventfd_failures"].Should().Be(0);
            if (irq == "msix")
            {
                output.Should().MatchRegex(@"blk: (1[0-9]|[2-9][0-9]) interrupts");
                pci["msi_route_updates"].Should().BeGreaterThanOrEqualTo(1);
                pci["msi_direct"].Should().Be(0, "every interrupt went through its irqfd");
                pci["msi_dropped"].Should().Be(0);
            }

            machine.PciDevices.Virtio[0].Notifiers.RegisteredAddress(0).Should().Be(0xE000_3000, "the notify register of BAR 0 at 0xE0000000");
        }

        disk.FirstSectorWithoutPattern(0x1234, 8, 64).Should().Be(-1);
        disk.ReadSectors(0, 8).Should().OnlyContain(b => b == 0, "sectors before the first written one are untouched");
        disk.ReadSectors(72, 8).Should().OnlyContain(b => b == 0);
    }

    [Theory]
    [InlineData(DiskCacheMode.None)]
    [InlineData(DiskCacheMode.Writeback)]
    public async Task Requests_in_flight_together_go_straight_to_guest_memory_and_each_completes_once(DiskCacheMode cache)
    {
        using var disk = new DiskImage(16 << 20);
        var serial = new SerialCapture();
        using (var machine = Boot("blk", serial, "mode=deep qd=16 sector=8 count=16 writes=96 seed=0x4321",
            c => c with { Disks = [new DiskOptions(disk.Path, Cache: cache)] }))
        {
            string output = await serial.WaitForAsync("PLATFORM-TEST blk PASS", GuestTimeout);
            output.Should().Contain("blk: wrote 96 x 16 sectors from 8 with 16 in flight, flushed, read back equal");

            var blk = Counters(machine, "disk0");
            blk["write_requests"].Should().Be(96);
            blk["read_requests"].Should().Be(96);
            blk["in_place_requests"].Should().Be(192, "the guest's buffers are sector-aligned, so even O_DIRECT takes them in place");
            blk["bounced_requests"].Should().Be(0);
            blk["max_in_flight"].Should().BeGreaterThan(1, "the guest queued 16 requests at once");
            blk["failed_requests"].Should().Be(0);
            blk["errors"].Should().Be(0);
        }

        disk.FirstSectorWithoutPattern(0x4321, 8, 96 * 16).Should().Be(-1);
        disk.ReadSectors(0, 8).Should().OnlyContain(b => b == 0);
        disk.ReadSectors(8 + (96 * 16), 8).Should().OnlyContain(b => b == 0);
    }

    [Fact]
    public async Task A_read_only_disk_refuses_writes_with_IOERR_and_the_image_stays_as_it_was()
    {
        using var disk = new DiskImage(1 << 20);
        byte[] before = File.ReadAllBytes(disk.Path);
        var serial = new SerialCapture();
        using (var machine = Boot("blk", serial, "mode=ro sector=3", c => c with { Disks = [new DiskOptions(disk.Path, ReadOnly: true)] }))
        {
            string output = await serial.WaitForAsync("PLATFORM-TEST blk PASS", GuestTimeout);
            output.Should().Contain("write to the read-only disk: status 1 (IOERR)");
            Counters(machine, "disk0")["failed_requests"].Should().Be(1);
        }

        File.ReadAllBytes(disk.Path).Should().Equal(before);
    }

    [Theory]
    [InlineData("msix")]
    [InlineData("intx")]
    [InlineData("poll")]
    public async Task The_rng_guest_reads_host_entropy(string irq)
    {
        var serial = new SerialCapture();
        using var machine = Boot("rng", serial, $"irq={irq} bytes=256 reads=3", c => c with { Rng = true });

        string output = await serial.WaitForAsync("PLATFORM-TEST rng PASS", GuestTimeout);
        output.Should().Contain("rng: 256 bytes 3 times, each varied, all distinct");
        var rng = Counters(machine, "rng0");
        rng["bytes"].Should().Be(768);
        rng["requests"].Should().Be(3);

        // What the guest received, checked here too: 256 random bytes repeat no value more than a handful of times
        // (P(some value 12 times or more) is about 2e-7 per buffer) and take at least half the values (about 162 expected).
        var buffers = Regex.Matches(output, @"^rng: buf (\d) ([0-9a-f]+)\r?$", RegexOptions.Multiline)
            .Select(m => Convert.FromHexString(m.Groups[2].Value)).ToList();
        buffers.Should().HaveCount(3);
        foreach (byte[] bytes in buffers)
        {
            bytes.Should().HaveCount(256);
            var counts = bytes.CountBy(b => b).ToList();
            counts.Max(c => c.Value).Should().BeLessThan(12, $"no byte value dominates random data: {Convert.ToHexString(bytes)}");
            counts.Should().HaveCountGreaterThanOrEqualTo(128, "256 random bytes take most of the 256 values");
        }

        buffers.Select(Convert.ToHexString).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task A_guest_that_points_a_descriptor_outside_RAM_sees_NEEDS_RESET_and_the_VMM_counts_it_and_goes_on()
    {
        using var disk = new DiskImage(1 << 20);
        await using var vm = ControlledVm.Start("blk", "mode=bad end=halt", configure: c => c with { Disks = [new DiskOptions(disk.Path)] });

        string output = await vm.WaitForOutputAsync("PLATFORM-TEST blk PASS", GuestTimeout);
        output.Should().Contain("NEEDS_RESET after a descriptor outside RAM").And.Contain("sector 0 reads fine");
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, TestContext.Current.CancellationToken);
        var stats = await client.QueryStatsAsync(TestContext.Current.CancellationToken);
        var blk = stats.Devices.Single(d => d.Name == "disk0");
        blk.Kind.Should().Be("virtio-blk");
        blk.Counters["errors"].Should().Be(1);
        blk.LastError.Should().Be("queue 0: BufferOutsideMemory");
        blk.Counters["read_requests"].Should().BeGreaterThanOrEqualTo(1, "the device works again after the reset");
    }

    [Fact]
    public async Task Disks_are_opened_again_when_the_machine_is_rebuilt_on_reboot()
    {
        using var disk = new DiskImage(1 << 20);
        await using (var vm = ControlledVm.Start("blk", "sector=1 count=2 writes=2 seed=0x77", RebootPolicy.Restart,
            configure: c => c with { Disks = [new DiskOptions(disk.Path)] }))
        {
            // The guest resets after its verdict; the next boot reopens the image (its lock released by the last).
            await WaitForCountAsync(vm, "PLATFORM-TEST blk PASS", 2);
            vm.Host.Boots.Should().BeGreaterThanOrEqualTo(2);
            vm.Output.Should().NotContain("blk FAIL");
        }

        disk.FirstSectorWithoutPattern(0x77, 1, 4).Should().Be(-1, "the image is unlocked once the VMM is gone");
    }

    [Fact]
    public async Task A_machine_disposed_while_its_disk_is_busy_stops_the_device_workers_before_unmapping_memory()
    {
        using var disk = new DiskImage(64 << 20);
        var serial = new SerialCapture();
        var machine = Boot("blk", serial, "mode=bench bench=randwrite ops=1000000 qd=8",
            c => c with { Disks = [new DiskOptions(disk.Path)], Rng = true });
        await serial.WaitForAsync("blk: serial", GuestTimeout);
        var blk = (VirtioBlock)machine.PciDevices.Virtio[0].Device;
        while (blk.WriteRequests < 50)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken); // requests in flight on the worker
        }

        machine.Dispose(); // a worker left running would now fault on unmapped guest memory and end this process
        long served = blk.WriteRequests;
        await Task.Delay(100, TestContext.Current.CancellationToken);
        blk.WriteRequests.Should().Be(served, "the worker was stopped and joined");

        // The image is closed and unlocked: a new machine opens it again.
        var again = new SerialCapture();
        using var next = Boot("blk", again, "sector=0 count=1", c => c with { Disks = [new DiskOptions(disk.Path)] });
        await again.WaitForAsync("PLATFORM-TEST blk PASS", GuestTimeout);
    }

    private static async Task WaitForCountAsync(ControlledVm vm, string marker, int count)
    {
        var deadline = DateTime.UtcNow + GuestTimeout;
        while (Occurrences(vm.Output, marker) < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"\"{marker}\" did not appear {count} times. Output:\n{vm.Output}");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private static int Occurrences(string text, string marker)
    {
        int count = 0;
        for (int at = text.IndexOf(marker, StringComparison.Ordinal); at >= 0; at = text.IndexOf(marker, at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
