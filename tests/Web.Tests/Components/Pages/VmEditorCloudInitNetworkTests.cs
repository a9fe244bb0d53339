using Bunit;
using Microsoft.AspNetCore.Components;
using Platform.Web.Components.Pages;
using Platform.Web.Services.CloudInit;

namespace Platform.Web.Tests.Components.Pages;

/// <summary>The wizard's Cloud-init step: a NIC given a static address, a bad one shown on its field by the server's check, then saved with the VM.</summary>
public sealed class VmEditorCloudInitNetworkTests : DashboardTestContext
{
    private static string Step(int step) => $"[data-testid=wizard-step-{step}]";

    private static void Type(IRenderedComponent<VmEditor> page, string testId, string value) =>
        page.Find($"[data-testid={testId}] input, input[data-testid={testId}]").Input(value);

    private static async Task NextAsync(IRenderedComponent<VmEditor> page) =>
        await page.Find("[data-testid=wizard-next]").ClickAsync(new());

    [Fact]
    public async Task A_static_address_is_checked_on_next_and_saved_with_the_new_vm()
    {
        var page = Render<VmEditor>();
        Type(page, "field-name", "wizard-static");
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(2));
        Type(page, "field-kernel-path", "/boot/vmlinuz");
        await NextAsync(page);
        page.WaitForElement(Step(3));
        await NextAsync(page);
        page.WaitForElement(Step(4));
        await page.Find("input[data-testid=field-cloud-init]").ChangeAsync(new ChangeEventArgs { Value = true });
        page.WaitForElement("input[data-testid=field-cloud-init-user]");
        Type(page, "field-cloud-init-user", "alice");
        Type(page, "field-cloud-init-password", "wizard-pass");
        page.Find("[data-testid=cloud-init-nic-0]").TextContent.Should().Contain("NIC 1 · default");

        await page.Find("input[data-testid=cloud-init-nic-0-static]").ClickAsync(new());
        Type(page, "cloud-init-nic-0-ipv4", "10.0.2.0/24");
        await NextAsync(page);

        page.WaitForAssertion(() => page.Find("[data-testid=cloud-init-nic-0]").TextContent
            .Should().Contain("10.0.2.0 is the network address of 10.0.2.0/24"));
        page.FindAll(Step(4)).Should().ContainSingle("the wizard does not move past a bad address");

        Type(page, "cloud-init-nic-0-ipv4", "10.0.2.20/24");
        Type(page, "cloud-init-nic-0-gateway4", "10.0.2.2");
        Type(page, "cloud-init-nic-0-dns", "10.0.2.3");
        await NextAsync(page);
        page.WaitForElement(Step(5));
        await page.Find("[data-testid=wizard-save]").ClickAsync(new());

        var vm = (await Db.Vms.ListAsync(Ct)).Single(v => v.Name == "wizard-static");
        var nic = vm.CloudInit!.StaticNics.Should().ContainSingle().Subject;
        (nic.Position, nic.Ipv4Address, nic.Ipv4Gateway, nic.Ipv6Address).Should().Be((0, "10.0.2.20/24", "10.0.2.2", (string?)null));
        nic.DnsServers.Should().Equal("10.0.2.3");
        CloudInitDocuments.For(vm, vm.CloudInit).NetworkConfig.Should().Contain("\"10.0.2.20/24\"").And.Contain(vm.Nics[0].MacAddress);
    }
}
