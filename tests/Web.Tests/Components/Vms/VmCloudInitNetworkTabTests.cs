using Bunit;
using Platform.Web.Components.Vms;
using Platform.Web.Data;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Components.Vms;

/// <summary>The Cloud-init tab's network fields on the real services: a NIC switched to static, a bad gateway shown on its field, then saved.</summary>
public sealed class VmCloudInitNetworkTabTests : DashboardTestContext
{
    private static void Type<T>(IRenderedComponent<T> tab, string testId, string value) where T : Microsoft.AspNetCore.Components.IComponent =>
        tab.Find($"[data-testid={testId}] input, input[data-testid={testId}]").Input(value);

    [Fact]
    public async Task A_nic_switched_to_static_shows_each_bad_field_and_then_saves_its_addresses()
    {
        var created = await Db.Vms.CreateAsync(new VmDefinitionInput
        {
            Name = "tab-net", KernelPath = "/boot/vmlinuz", Nics = [VmNicInput.OnDefaultNetwork()],
            CloudInit = new CloudInitInput { UserName = "alice", Password = "pw-alice" },
        }, Ct);
        var vm = created.Value!;
        var tab = Render<VmCloudInitTab>(p => p.Add(t => t.Vm, vm).Add(t => t.State, VmPowerState.Stopped));
        tab.Find("[data-testid=cloud-init-nic-0]").TextContent.Should().Contain($"NIC 1 · default · {vm.Nics[0].MacAddress}");
        tab.FindAll("[data-testid=cloud-init-nic-0-ipv4]").Should().BeEmpty("a DHCP NIC has no address fields");

        await tab.Find("input[data-testid=cloud-init-nic-0-static]").ClickAsync(new());
        Type(tab, "cloud-init-nic-0-ipv4", "10.0.2.20/24");
        Type(tab, "cloud-init-nic-0-gateway4", "10.0.3.1");
        Type(tab, "cloud-init-nic-0-dns", "10.0.2.3, 9.9.9.9");
        await tab.Find("[data-testid=cloud-init-save]").ClickAsync(new());

        tab.WaitForAssertion(() => tab.Find("[data-testid=cloud-init-nic-0]").TextContent
            .Should().Contain("10.0.3.1 is not in 10.0.2.0/24, the subnet of ipv4Address 10.0.2.20/24"));
        (await Db.Vms.FindAsync(vm.Id, Ct))!.CloudInit!.StaticNics.Should().BeEmpty("nothing was saved");

        Type(tab, "cloud-init-nic-0-gateway4", "10.0.2.2");
        await tab.Find("[data-testid=cloud-init-save]").ClickAsync(new());

        tab.WaitForAssertion(() => tab.Find("[data-testid=cloud-init-nic-0]").TextContent.Should().NotContain("is not in"));
        var saved = (await Db.Vms.FindAsync(vm.Id, Ct))!.CloudInit!.StaticNics.Should().ContainSingle().Subject;
        (saved.Position, saved.Ipv4Address, saved.Ipv4Gateway).Should().Be((0, "10.0.2.20/24", "10.0.2.2"));
        saved.DnsServers.Should().Equal("10.0.2.3", "9.9.9.9");
    }
}
