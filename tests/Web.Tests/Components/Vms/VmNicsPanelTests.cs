using AngleSharp.Html.Dom;
using Bunit;
using Platform.Web.Components.Vms;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Components.Vms;

/// <summary>The Hardware tab's NIC table: the "Cable connected" switch per NIC while the VM runs, over <c>FakeRunningNics</c>.</summary>
public sealed class VmNicsPanelTests : DashboardTestContext
{
    private async Task<VirtualMachine> CreateWithNicsAsync(string name, int count)
    {
        var result = await Db.Vms.CreateAsync(new VmDefinitionInput
        {
            Name = name, KernelPath = "/boot/vmlinuz", Nics = [.. Enumerable.Range(0, count).Select(_ => VmNicInput.OnDefaultNetwork())],
        }, Ct);
        result.Succeeded.Should().BeTrue(result.Message);
        return (await Db.Vms.FindAsync(result.Value!.Id, Ct))!;
    }

    private IRenderedComponent<VmNicsPanel> RenderPanel(VirtualMachine vm, VmPowerState state) =>
        Render<VmNicsPanel>(p => p.Add(c => c.Vm, vm).Add(c => c.State, state));

    private static IHtmlInputElement Switch(IRenderedComponent<VmNicsPanel> panel, int position) =>
        (IHtmlInputElement)panel.Find($"[data-testid=nic-link-{position}] input, input[data-testid=nic-link-{position}]");

    private static VmStatsSample Sample(Guid vmId, params long[] linkUp) => new(vmId, new VmmStats(1, 1000, 64 << 20, 8 << 20, [],
        [.. linkUp.Select((up, i) => new DeviceStats($"net{i}", "virtio-net", new Dictionary<string, long> { ["link_up"] = up }))]), DateTimeOffset.UtcNow);

    [Fact]
    public async Task On_a_running_vm_each_switch_shows_the_vmms_link_and_pulls_or_plugs_that_nics_cable()
    {
        var vm = await CreateWithNicsAsync("nic-panel", 2);
        Runtime.SetState(vm.Id, VmPowerState.Running);
        Nics.Run(vm.Id, 2);

        var panel = RenderPanel(vm, VmPowerState.Running);
        panel.WaitForAssertion(() => (Switch(panel, 0).IsChecked, Switch(panel, 1).IsChecked).Should().Be((true, true)));
        panel.Markup.Should().Contain("Cable connected");

        await panel.InvokeAsync(() => Switch(panel, 1).Change(false));

        panel.WaitForAssertion(() => Snackbars.Should().Contain("Pulled out NIC 2's cable."));
        Nics.Calls.Should().Equal($"link {vm.Id} 1 down");
        panel.WaitForAssertion(() => (Switch(panel, 0).IsChecked, Switch(panel, 1).IsChecked).Should().Be((true, false)));

        // Whatever changes the link (the API, another page), the next stats sample shows it here.
        RuntimeInfo.Publish(Sample(vm.Id, 1, 1));
        panel.WaitForAssertion(() => Switch(panel, 1).IsChecked.Should().BeTrue());
    }

    [Fact]
    public async Task A_change_the_vmm_refuses_is_told_in_a_snackbar_and_the_switch_keeps_the_vmms_state()
    {
        var vm = await CreateWithNicsAsync("nic-refused", 1);
        Runtime.SetState(vm.Id, VmPowerState.Running);
        Nics.Run(vm.Id, 1);
        Nics.Refuse = "The VMM did not change the link: the VMM is shutting down";

        var panel = RenderPanel(vm, VmPowerState.Running);
        panel.WaitForAssertion(() => Switch(panel, 0).IsChecked.Should().BeTrue());
        await panel.InvokeAsync(() => Switch(panel, 0).Change(false));

        panel.WaitForAssertion(() => Snackbars.Should().Contain("Could not pull out NIC 1's cable: The VMM did not change the link: the VMM is shutting down"));
        panel.WaitForAssertion(() => Switch(panel, 0).IsChecked.Should().BeTrue("the VMM kept the cable in"));
    }

    [Fact]
    public async Task An_auditor_sees_the_live_link_with_the_switch_disabled_and_a_stopped_vm_has_no_switch()
    {
        var vm = await CreateWithNicsAsync("nic-auditor-vm", 1);
        Runtime.SetState(vm.Id, VmPowerState.Running);
        Nics.Run(vm.Id, 1);
        ActAs(Db.AddUser("nic-auditor", (BuiltInRoles.AuditorId, null)), "nic-auditor");

        var asAuditor = RenderPanel(vm, VmPowerState.Running);
        asAuditor.WaitForAssertion(() => Switch(asAuditor, 0).IsChecked.Should().BeTrue());
        Switch(asAuditor, 0).IsDisabled.Should().BeTrue("pulling the cable needs VM.Config");

        var stopped = RenderPanel(vm, VmPowerState.Stopped);
        stopped.FindAll("[data-testid^=nic-link]").Should().BeEmpty("a stopped VM has no cable: its next start plugs every NIC in");
        stopped.Markup.Should().NotContain("Cable connected");
    }
}
