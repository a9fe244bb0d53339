using Bunit;
using MudBlazor;
using Platform.Web.Components.Vms;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Components.Vms;

// The Hardware tab's disk list: each disk's bus is shown and, on a stopped VM, changed through VmDiskService.
public sealed class VmDisksPanelTests : DashboardTestContext
{
    private async Task<VirtualMachine> VmWithDisksAsync(string name, params DiskBus[] buses)
    {
        var result = await Db.Vms.CreateAsync(new VmDefinitionInput
        {
            Name = name, BootMode = BootMode.Firmware,
            Disks = [.. buses.Select((bus, i) => new VmDiskInput { Path = $"/var/lib/vm/{name}-{i}.img", Bus = bus })],
        }, Ct);
        result.Succeeded.Should().BeTrue(result.Message);
        return result.Value!;
    }

    private IRenderedComponent<VmDisksPanel> RenderPanel(VirtualMachine vm, VmPowerState state) =>
        Render<VmDisksPanel>(p => p.Add(c => c.Vm, vm).Add(c => c.State, state));

    /// <summary>What the select shows: the chosen item's text in its input.</summary>
    private static string Shown(IRenderedComponent<VmDisksPanel> panel, int position) => Bus(panel, position).Find("input").GetAttribute("value") ?? "";

    private static IRenderedComponent<MudSelect<DiskBus>> Bus(IRenderedComponent<VmDisksPanel> panel, int position) =>
        panel.FindComponents<MudSelect<DiskBus>>().Single(s => Equals(s.Instance.UserAttributes["data-testid"], $"disk-bus-{position}"));

    [Fact]
    public async Task Each_disk_shows_its_bus_and_a_stopped_vms_disk_moves_to_SATA_in_its_definition()
    {
        var vm = await VmWithDisksAsync("bus-panel", DiskBus.Virtio, DiskBus.Sata);
        var panel = RenderPanel(vm, VmPowerState.Stopped);
        Shown(panel, 0).Should().Be("virtio");
        Shown(panel, 1).Should().Be("SATA");

        await panel.InvokeAsync(() => Bus(panel, 0).Instance.ValueChanged.InvokeAsync(DiskBus.Sata));

        panel.WaitForAssertion(() => Shown(panel, 0).Should().Be("SATA"));
        (await Db.Vms.FindAsync(vm.Id, Ct))!.Disks.Should().OnlyContain(d => d.Bus == DiskBus.Sata);
        Snackbars.Should().Contain("Changed disk 1.");
    }

    [Fact]
    public async Task A_running_vms_bus_cannot_be_changed_from_the_list()
    {
        var vm = await VmWithDisksAsync("bus-running", DiskBus.Sata);
        Runtime.SetState(vm.Id, VmPowerState.Running);

        var panel = RenderPanel(vm, VmPowerState.Running);

        Bus(panel, 0).Find("input").HasAttribute("disabled").Should().BeTrue("the VMM reads its disks at start");
        Shown(panel, 0).Should().Be("SATA");
    }
}
