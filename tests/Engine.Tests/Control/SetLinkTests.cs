using Platform.Contracts.Config;
using Platform.Contracts.Control;
using Platform.Engine.Net;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Control;

// set_link over the control socket, as QMP's: the NIC's link status as its device reports it in query-stats, kept
// across a reboot, and bad arguments refused with their error class.
public sealed class SetLinkTests
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<long> LinkUpAsync(VmmControlClient client, string nic) =>
        (await client.QueryStatsAsync(Token)).Devices.Single(d => d.Name == nic).Counters["link_up"];

    [Fact]
    public async Task A_pulled_cable_stays_out_across_a_reboot_until_it_is_plugged_back_in()
    {
        await using var vm = ControlledVm.Start("echo", onReboot: RebootPolicy.Restart, configure: c => c with
        {
            Nics = [NicOptions.From(new NicConfig { Kind = NicKind.User }, 0), NicOptions.From(new NicConfig { Kind = NicKind.User }, 1)],
            Display = DisplayKind.None,
        });
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        (await LinkUpAsync(client, "net1")).Should().Be(1);

        await client.SetLinkAsync("net1", up: false, Token);
        (await LinkUpAsync(client, "net1")).Should().Be(0);
        (await LinkUpAsync(client, "net0")).Should().Be(1, "only the NIC named changes");

        int boots = vm.Host.Boots;
        await client.ResetAsync(Token);
        var rebooted = System.Diagnostics.Stopwatch.StartNew();
        while (vm.Host.Boots == boots || vm.Host.Current is null)
        {
            rebooted.Elapsed.Should().BeLessThan(GuestTimeout, "the VM boots again after system_reset");
            await Task.Delay(10, Token);
        }

        (await LinkUpAsync(client, "net1")).Should().Be(0, "the cable is the VM's, not the boot's, as in QEMU");
        await client.SetLinkAsync("net1", up: true, Token);
        (await LinkUpAsync(client, "net1")).Should().Be(1);
    }

    [Fact]
    public async Task Unknown_nics_and_malformed_arguments_are_refused_with_their_error_class()
    {
        await using var vm = ControlledVm.Start("echo", configure: c => c with
        {
            Nics = [NicOptions.From(new NicConfig { Kind = NicKind.User }, 0)],
            Display = DisplayKind.None,
        });
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);

        (await Refusal(() => client.SetLinkAsync("net3", up: false, Token))).Should().Match<VmmControlException>(e =>
            e.ErrorClass == "DeviceNotFound" && e.Message.Contains("net0", StringComparison.Ordinal));
        (await Refusal(() => client.ExecuteAsync("set_link", w => w.WriteString("name", "net0"), Token))).ErrorClass.Should().Be("InvalidCommand");
        (await Refusal(() => client.ExecuteAsync("set_link", w =>
        {
            w.WriteString("name", "net0");
            w.WriteString("up", "yes");
        }, Token))).ErrorClass.Should().Be("InvalidCommand");
        (await LinkUpAsync(client, "net0")).Should().Be(1, "nothing refused changed the link");
    }

    private static async Task<VmmControlException> Refusal(Func<Task> command) =>
        (await command.Should().ThrowAsync<VmmControlException>()).Which;
}
