using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Control;

// block_set_io_throttle over the control socket: a running VM's disk takes new limits at once, keeps them across the
// guest's reboot (the VMM hands each boot the same throttle), and a bad request is refused with its error class.
public sealed class BlockSetIoThrottleTests : IDisposable
{
    private const long MiB = 1 << 20;
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("io-throttle-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(long Bps, long Iops)> LimitsAsync(VmmControlClient client, string disk)
    {
        var counters = (await client.QueryStatsAsync(Token)).Devices.Single(d => d.Name == disk).Counters;
        return (counters["limit_bps"], counters["limit_iops"]);
    }

    [Fact]
    public async Task A_running_vms_disk_takes_new_limits_at_once_and_keeps_them_across_a_reboot()
    {
        string data = Path.Combine(_dir, "data.img");
        string other = Path.Combine(_dir, "other.img");
        File.WriteAllBytes(data, new byte[MiB]);
        File.WriteAllBytes(other, new byte[MiB]);
        await using var vm = ControlledVm.Start("echo", configure: c => c with
        {
            Disks = [new DiskOptions(data, BytesPerSecond: 4 * MiB), new DiskOptions(other)], Display = DisplayKind.None, OnReboot = RebootPolicy.Restart,
        });
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        (await LimitsAsync(client, "disk0")).Should().Be((4 * MiB, 0L), "the limit it started with");
        (await LimitsAsync(client, "disk1")).Should().Be((0L, 0L));

        await client.BlockSetIoThrottleAsync("disk0", null, 250, Token);
        await client.BlockSetIoThrottleAsync("disk1", 2 * MiB, null, Token);
        (await LimitsAsync(client, "disk0")).Should().Be((0L, 250L), "a bandwidth limit lifted, a request limit set");
        (await LimitsAsync(client, "disk1")).Should().Be((2 * MiB, 0L), "a disk that started unlimited takes a limit too");

        int boots = vm.Host.Boots;
        await client.ResetAsync(Token);
        var rebooted = System.Diagnostics.Stopwatch.StartNew();
        while (vm.Host.Boots == boots || vm.Host.Current is null)
        {
            rebooted.Elapsed.Should().BeLessThan(GuestTimeout, "the VM boots again after system_reset");
            await Task.Delay(10, Token);
        }

        (await LimitsAsync(client, "disk0")).Should().Be((0L, 250L), "the reboot's disk has the limits set while it ran");
        (await LimitsAsync(client, "disk1")).Should().Be((2 * MiB, 0L));

        (await Refusal(() => client.BlockSetIoThrottleAsync("disk9", MiB, null, Token))).Should().Match<VmmControlException>(e =>
            e.ErrorClass == "DeviceNotFound" && e.Message.Contains("disk0, disk1", StringComparison.Ordinal));
        (await Refusal(() => client.ExecuteAsync("block_set_io_throttle", w =>
        {
            w.WriteString("device", "disk0");
            w.WriteNumber("bps", -1);
            w.WriteNumber("iops", 0);
        }, Token))).ErrorClass.Should().Be("InvalidCommand");
        (await Refusal(() => client.ExecuteAsync("block_set_io_throttle", w => w.WriteString("device", "disk0"), Token))).ErrorClass.Should().Be("InvalidCommand");
    }

    private static async Task<VmmControlException> Refusal(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (VmmControlException ex)
        {
            return ex;
        }

        throw new InvalidOperationException("the command was not refused");
    }
}
