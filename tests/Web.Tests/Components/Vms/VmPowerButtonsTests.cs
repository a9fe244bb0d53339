using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Platform.Web.Components.Vms;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Components.Vms;

/// <summary>Stop and Reset ask first (until "don't ask again"); Stop stays pressable while a Shutdown waits, with a countdown.</summary>
public sealed class VmPowerButtonsTests : DashboardTestContext
{
    private async Task<Guid> RunningVmAsync(string name)
    {
        var vm = (await Db.Vms.CreateAsync(new VmDefinitionInput { Name = name, KernelPath = "/boot/vmlinuz" }, Ct)).Value!;
        Runtime.SetState(vm.Id, VmPowerState.Running);
        return vm.Id;
    }

    [Fact]
    public void A_vm_whose_host_is_unreachable_offers_no_action_and_says_so()
    {
        VmPowerButtons.ActionsFor(VmPowerState.HostUnreachable).Should().BeEmpty("nothing would reach its host");
        var buttons = Render<VmPowerButtons>(p => p.Add(b => b.VmId, Guid.NewGuid()).Add(b => b.VmName, "far").Add(b => b.State, VmPowerState.HostUnreachable));
        buttons.FindAll("button").Should().BeEmpty();

        Render<VmStateChip>(p => p.Add(c => c.State, VmPowerState.HostUnreachable)).Markup.Should().Contain("host unreachable");
    }

    [Fact]
    public async Task Stop_asks_first_and_does_nothing_when_cancelled_then_not_again_once_told_so()
    {
        var id = await RunningVmAsync("careful");
        var dialogs = Render<MudDialogProvider>();
        var buttons = Render<VmPowerButtons>(p => p.Add(b => b.VmId, id).Add(b => b.VmName, "careful").Add(b => b.State, VmPowerState.Running));

        var first = buttons.Find("button[aria-label='Stop careful']").ClickAsync(new());
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=confirm-power-dialog]").TextContent.Should().Contain("Stop careful now?"));
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel").Click();
        await first.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Runtime.Calls.Should().BeEmpty("a cancelled Stop stops nothing");

        var second = buttons.Find("button[aria-label='Stop careful']").ClickAsync(new());
        dialogs.WaitForAssertion(() => dialogs.Find("input[data-testid=confirm-power-dont-ask], [data-testid=confirm-power-dont-ask] input").Change(true));
        await dialogs.Find("[data-testid=confirm-power]").ClickAsync(new());
        await second.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Runtime.Calls.Select(c => c.Action).Should().Equal("stop");

        Runtime.SetState(id, VmPowerState.Running);
        await buttons.Find("button[aria-label='Stop careful']").ClickAsync(new());
        Runtime.Calls.Select(c => c.Action).Should().Equal("stop", "stop");
        dialogs.FindAll("[data-testid=confirm-power-dialog]").Should().BeEmpty("the user said not to ask again in this session");
    }

    [Fact]
    public async Task Reset_asks_first_and_start_does_not()
    {
        var id = await RunningVmAsync("asker");
        var dialogs = Render<MudDialogProvider>();
        var buttons = Render<VmPowerButtons>(p => p.Add(b => b.VmId, id).Add(b => b.VmName, "asker").Add(b => b.State, VmPowerState.Running));

        var reset = buttons.Find("button[aria-label='Reset asker']").ClickAsync(new());
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=confirm-power-dialog]").TextContent.Should().Contain("Reset asker now?"));
        await dialogs.Find("[data-testid=confirm-power]").ClickAsync(new());
        await reset.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Runtime.Calls.Select(c => c.Action).Should().Equal("reset");
        PowerConfirmations.AsksFirst(VmPowerAction.Start).Should().BeFalse();
        PowerConfirmations.AsksFirst(VmPowerAction.Shutdown).Should().BeFalse();
    }

    [Fact]
    public async Task While_a_shutdown_waits_stop_can_be_pressed_and_a_countdown_shows()
    {
        var id = await RunningVmAsync("slow-guest");
        Services.GetRequiredService<PowerConfirmations>().StopAsking(VmPowerAction.Stop);
        Runtime.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var buttons = Render<VmPowerButtons>(p => p.Add(b => b.VmId, id).Add(b => b.VmName, "slow-guest").Add(b => b.State, VmPowerState.Running));

        var shutdown = buttons.Find("button[aria-label='Shut down slow-guest']").ClickAsync(new());

        buttons.WaitForAssertion(() => buttons.Find("[data-testid=shutdown-countdown]").TextContent.Should().Contain("s left"));
        buttons.Find("button[aria-label='Stop slow-guest']").HasAttribute("disabled").Should().BeFalse("Stop is what a user wants while a guest ignores Shut down");
        buttons.Find("button[aria-label='Pause slow-guest']").HasAttribute("disabled").Should().BeTrue();
        Runtime.Gate.SetResult();
        await shutdown.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }
}
