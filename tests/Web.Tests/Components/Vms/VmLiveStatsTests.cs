using Bunit;
using Platform.Web.Components.Vms;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Tests.Components.Vms;

public sealed class VmLiveStatsTests : DashboardTestContext
{
    private static VmmStats Stats(int boots, long cpuMs, long exits, long rss) => new(
        boots, 1000, 64 << 20, rss,
        [new VcpuStats(0, exits / 2, cpuMs / 2), new VcpuStats(1, exits / 2, cpuMs / 2)],
        [new DeviceStats("com1", "uart-16550a", new Dictionary<string, long> { ["tx_bytes"] = 1234, ["rx_bytes"] = 5 })]);

    [Fact]
    public void Consecutive_samples_become_rates_and_device_counters_show()
    {
        var vmId = Guid.NewGuid();
        var cut = Render<VmLiveStats>(p => p.Add(c => c.VmId, vmId).Add(c => c.State, VmPowerState.Running));
        cut.Find("[data-testid=live-stats-waiting]");
        var start = DateTimeOffset.UtcNow;

        RuntimeInfo.Publish(new VmStatsSample(vmId, Stats(1, 1000, 10_000, 8 << 20), start));
        RuntimeInfo.Publish(new VmStatsSample(Guid.NewGuid(), Stats(1, 900_000, 1, 1), start)); // another VM: ignored
        RuntimeInfo.Publish(new VmStatsSample(vmId, Stats(1, 2000, 30_000, 9 << 20), start.AddSeconds(2)));

        cut.WaitForAssertion(() =>
        {
            cut.Find("[data-testid=live-cpu]").TextContent.Should().Be("50 %", "1000 ms of vCPU time in 2 s is half a CPU");
            cut.Find("[data-testid=live-exits]").TextContent.Should().Be("10,000");
            cut.Find("[data-testid=live-rss]").TextContent.Should().Be("9 MiB");
        });
        cut.Find("[data-testid=live-details]").ClassList.Should().NotContain("mud-panel-expanded", "the raw counters are folded under Details");
        cut.Find("[data-testid=live-details] .mud-expand-panel-header").Click();
        cut.WaitForAssertion(() => cut.Find("[data-testid=live-details]").ClassList.Should().Contain("mud-panel-expanded"));
        cut.Find("[data-testid=live-devices]").TextContent.Should().Contain("com1").And.Contain("tx bytes 1,234");
        cut.FindAll("[data-testid=live-cpu-chart] polyline").Should().BeEmpty("one rate is not a line yet");
    }

    [Fact]
    public void A_reboot_restarts_the_rates_instead_of_showing_a_negative_jump_and_a_stopped_vm_shows_nothing()
    {
        var vmId = Guid.NewGuid();
        var cut = Render<VmLiveStats>(p => p.Add(c => c.VmId, vmId).Add(c => c.State, VmPowerState.Running));
        var start = DateTimeOffset.UtcNow;
        RuntimeInfo.Publish(new VmStatsSample(vmId, Stats(1, 5000, 50_000, 8 << 20), start));
        RuntimeInfo.Publish(new VmStatsSample(vmId, Stats(2, 10, 100, 8 << 20), start.AddSeconds(1)));
        RuntimeInfo.Publish(new VmStatsSample(vmId, Stats(2, 510, 1100, 8 << 20), start.AddSeconds(2)));
        RuntimeInfo.Publish(new VmStatsSample(vmId, Stats(2, 1010, 2100, 8 << 20), start.AddSeconds(3)));

        cut.WaitForAssertion(() => cut.Find("[data-testid=live-exits]").TextContent.Should().Be("1,000"));
        cut.FindAll("[data-testid=live-exits-chart] polyline").Should().ContainSingle();

        cut.Render(p => p.Add(c => c.State, VmPowerState.Stopped));
        cut.Markup.Trim().Should().BeEmpty();
    }

    [Fact]
    public void Disk_and_network_traffic_read_as_bytes_per_second_and_trouble_counters_are_named()
    {
        var vmId = Guid.NewGuid();
        var cut = Render<VmLiveStats>(p => p.Add(c => c.VmId, vmId).Add(c => c.State, VmPowerState.Running));
        var start = DateTimeOffset.UtcNow;
        VmmStats Io(long read, long rx, long errors) => new(1, 1000, 64 << 20, 1 << 20, [new VcpuStats(0, 1, 1)],
        [
            new DeviceStats("disk0", "virtio-blk", new Dictionary<string, long> { ["read_bytes"] = read, ["write_bytes"] = 0, ["failed_requests"] = errors }),
            new DeviceStats("net0", "virtio-net", new Dictionary<string, long> { ["rx_bytes"] = rx, ["tx_bytes"] = 2048 }),
            new DeviceStats("rng0", "virtio-rng", new Dictionary<string, long> { ["bytes"] = 99 }),
        ]);

        RuntimeInfo.Publish(new VmStatsSample(vmId, Io(0, 0, 0), start));
        cut.WaitForAssertion(() => cut.Find("[data-testid=live-activity]").TextContent.Should().Contain("measuring"));
        RuntimeInfo.Publish(new VmStatsSample(vmId, Io(4 << 20, 20 << 10, 3), start.AddSeconds(2)));

        cut.WaitForAssertion(() =>
        {
            string text = cut.Find("[data-testid=live-activity]").TextContent;
            text.Should().Contain("disk0").And.Contain("2 MiB/s read, 0 bytes/s written");
            text.Should().Contain("net0").And.Contain("10 KiB/s received, 0 bytes/s sent");
            text.Should().NotContain("rng0", "a device with neither traffic in words nor trouble stays under Details");
            cut.Find("[data-testid=live-problem]").TextContent.Should().Be("failed requests: 3");
        });
    }
}
