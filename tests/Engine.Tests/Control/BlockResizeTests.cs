using System.Text.Json;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Images;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Control;

// block_resize over the control socket, seen by the blk test guest: it sleeps until virtio-blk's configuration change
// interrupt, reads the new capacity, then writes and reads the new last sectors. The image keeps the new size.
public sealed class BlockResizeTests : IDisposable
{
    private const long MiB = 1 << 20;
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("block-resize-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(DiskImageFormat.Qcow2, "msix", DiskCacheMode.Writeback)]
    [InlineData(DiskImageFormat.Raw, "msix", DiskCacheMode.None)]
    [InlineData(DiskImageFormat.Qcow2, "intx", DiskCacheMode.None)]
    public async Task A_running_guest_hears_the_disk_grow_and_uses_the_new_space(DiskImageFormat format, string irq, DiskCacheMode cache)
    {
        string image = Path.Combine(_dir, "disk.img");
        DiskImageCreator.Create(image, 4 * MiB, format, Preallocation.Off);
        await using (var vm = ControlledVm.Start("blk", $"mode=resize irq={irq} seed=0x77",
            configure: c => c with { Disks = [new DiskOptions(image, Cache: cache)], Display = DisplayKind.None }))
        {
            await vm.WaitForOutputAsync("blk: waiting for a configuration change (capacity 8192 sectors", GuestTimeout);
            await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);

            await client.BlockResizeAsync("disk0", 12 * MiB, Token);
            var stats = await client.QueryStatsAsync(Token);
            stats.Devices.Single(d => d.Name == "disk0").Counters["virtual_bytes"].Should().Be(12 * MiB);

            string output = await vm.WaitForOutputAsync("PLATFORM-TEST blk PASS", GuestTimeout);
            output.Should().Contain("blk: configuration change: capacity 24576 sectors (was 8192)")
                .And.Contain("blk: wrote and read back sectors 24568+8 of the grown disk");
        }

        using var info = JsonDocument.Parse(QemuImg.Run("info", "--output=json", image).Stdout);
        info.RootElement.GetProperty("virtual-size").GetInt64().Should().Be(12 * MiB, "the image keeps the new size for the next boot");
        if (format == DiskImageFormat.Qcow2)
        {
            QemuImg.Check(image).ExitCode.Should().Be(0);
        }

        byte[] contents = format == DiskImageFormat.Qcow2 ? QemuImg.ContentsAsRaw(image) : File.ReadAllBytes(image);
        DiskImage.FirstSectorWithoutPattern(contents.AsSpan((int)(12 * MiB) - 4096, 4096), 0x77, 24568).Should().Be(-1);
    }

    [Fact]
    public async Task A_sata_disk_grows_too_and_keeps_the_new_size_for_the_next_boot()
    {
        // ATA has no capacity-change notice: the guest reads the new size from IDENTIFY when it looks again (Linux on a
        // rescan; AtaDiskTests checks IDENTIFY), as with QEMU's AHCI disks. The image and the counters change at once.
        string image = Path.Combine(_dir, "sata.qcow2");
        DiskImageCreator.Create(image, 4 * MiB, DiskImageFormat.Qcow2, Preallocation.Off);
        await using (var vm = ControlledVm.Start("echo",
            configure: c => c with { Disks = [new DiskOptions(image, Bus: DiskInterface.Sata)], Display = DisplayKind.None }))
        {
            await vm.WaitForOutputAsync("READY", GuestTimeout);
            await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);

            (await Refusal(() => client.BlockResizeAsync("disk0", 2 * MiB, Token))).ErrorClass.Should().Be("ShrinkRefused");
            await client.BlockResizeAsync("disk0", 12 * MiB, Token);
            var disk = (await client.QueryStatsAsync(Token)).Devices.Single(d => d.Name == "disk0");
            disk.Kind.Should().Be("ahci-disk");
            disk.Counters["virtual_bytes"].Should().Be(12 * MiB);
        }

        using var info = JsonDocument.Parse(QemuImg.Run("info", "--output=json", image).Stdout);
        info.RootElement.GetProperty("virtual-size").GetInt64().Should().Be(12 * MiB);
        QemuImg.Check(image).ExitCode.Should().Be(0);
    }

    [Fact]
    public async Task Unknown_disks_shrinking_odd_sizes_and_read_only_disks_are_refused_with_their_error_class()
    {
        string data = Path.Combine(_dir, "data.qcow2");
        string iso = Path.Combine(_dir, "seed.raw");
        DiskImageCreator.Create(data, 8 * MiB, DiskImageFormat.Qcow2, Preallocation.Off);
        DiskImageCreator.Create(iso, MiB, DiskImageFormat.Raw, Preallocation.Off);
        await using var vm = ControlledVm.Start("echo",
            configure: c => c with { Disks = [new DiskOptions(data), new DiskOptions(iso, ReadOnly: true)], Display = DisplayKind.None });
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);

        (await Refusal(() => client.BlockResizeAsync("disk7", 16 * MiB, Token))).Should().Match<VmmControlException>(e =>
            e.ErrorClass == "DeviceNotFound" && e.Message.Contains("disk0, disk1", StringComparison.Ordinal));
        (await Refusal(() => client.BlockResizeAsync("disk0", 4 * MiB, Token))).Should().Match<VmmControlException>(e =>
            e.ErrorClass == "ShrinkRefused" && e.Message.Contains("shrinking", StringComparison.Ordinal));
        (await Refusal(() => client.BlockResizeAsync("disk0", (16 * MiB) + 100, Token))).ErrorClass.Should().Be("InvalidArgument");
        (await Refusal(() => client.BlockResizeAsync("disk0", 1L << 60, Token))).ErrorClass.Should().Be("InvalidArgument");
        (await Refusal(() => client.BlockResizeAsync("disk1", 16 * MiB, Token))).ErrorClass.Should().Be("ReadOnlyDevice");
        (await Refusal(() => client.ExecuteAsync("block_resize", w => w.WriteString("device", "disk0"), Token))).ErrorClass.Should().Be("InvalidCommand");
        (await Refusal(() => client.ExecuteAsync("block_resize", w =>
        {
            w.WriteString("device", "disk0");
            w.WriteString("size", "16M");
        }, Token))).ErrorClass.Should().Be("InvalidCommand");

        await client.BlockResizeAsync("disk0", 8 * MiB, Token); // the same size: nothing to do, as QMP
        await client.BlockResizeAsync("disk0", 16 * MiB, Token);
        (await client.QueryStatsAsync(Token)).Devices.Single(d => d.Name == "disk0").Counters["virtual_bytes"].Should().Be(16 * MiB);
        vm.Host.SendSerialInput("ok"u8);
        await vm.WaitForOutputAsync("OK", GuestTimeout);
    }

    private static async Task<VmmControlException> Refusal(Func<Task> command) =>
        (await command.Should().ThrowAsync<VmmControlException>()).Which;
}
