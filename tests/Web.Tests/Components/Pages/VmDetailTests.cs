using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Platform.Web.Components.Pages;
using Platform.Web.Components.Vms;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Components.Pages;

public sealed class VmDetailTests : DashboardTestContext
{
    [Fact]
    public async Task Shows_every_registered_tab_and_the_live_state()
    {
        var vm = await CreateVmAsync("detail-1", vcpus: 3);
        var page = Render<VmDetail>(p => p.Add(d => d.Id, vm.Id));

        page.WaitForAssertion(() => page.Find("#page-title").TextContent.Should().Be("detail-1"));
        page.FindAll(".mud-tab").Select(t => t.TextContent.Trim()).Should().Equal(VmDetailTabs.All.Select(t => t.Title));
        page.Find("[data-testid=vm-summary]").TextContent.Should().Contain("vCPUs3");

        Runtime.Raise(vm.Id, VmPowerState.Paused);
        page.WaitForAssertion(() => page.Find("[data-testid=vm-state]").TextContent.Should().Contain("paused"));
        page.FindAll("button[aria-label='Resume detail-1']").Should().ContainSingle();
    }

    [Fact]
    public async Task The_tab_in_the_address_is_the_one_shown()
    {
        var input = new VmDefinitionInput { Name = "detail-hw", KernelPath = "/boot/vmlinuz" };
        input.Disks.Add(new VmDiskInput { Path = "/data/root.img", ReadOnly = true });
        var vm = (await Db.Vms.CreateAsync(input, Ct)).Value!;

        var page = Render<VmDetail>(p => p.Add(d => d.Id, vm.Id).Add(d => d.Tab, "hardware"));

        page.WaitForAssertion(() => page.Find("[data-testid=vm-disks]").TextContent.Should().Contain("/data/root.img").And.Contain("read-only"));
        page.Find("[data-testid=vm-kernel]").TextContent.Should().Be("/boot/vmlinuz", "Hardware names the kernel too, not only Summary");
    }

    [Fact]
    public async Task Delete_asks_first_and_can_also_delete_the_vms_disk_images()
    {
        ImageFile image;
        using (var content = new MemoryStream([1, 2, 3]))
        {
            image = (await Db.Images.UploadAsync(ImageKind.Disk, "doomed.img", content, null, null, Ct)).Value!;
        }

        var input = new VmDefinitionInput { Name = "doomed", KernelPath = "/boot/vmlinuz" };
        input.Disks.Add(new VmDiskInput { ImageId = image.Id });
        var vm = (await Db.Vms.CreateAsync(input, Ct)).Value!;
        var dialogs = Render<MudDialogProvider>();
        var page = Render<VmDetail>(p => p.Add(d => d.Id, vm.Id));
        page.WaitForElement("[data-testid=vm-delete]");

        // The click's handler waits for the dialog's answer, so it is not awaited here.
        var deleting = page.Find("[data-testid=vm-delete]").ClickAsync(new());
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=delete-vm-dialog]").TextContent.Should().Contain("Delete doomed?"));
        (await Db.Vms.FindAsync(vm.Id, Ct)).Should().NotBeNull("nothing happens before the user confirms");

        dialogs.Find("input[data-testid=delete-vm-images], [data-testid=delete-vm-images] input").Change(true);
        await dialogs.Find("[data-testid=delete-vm-confirm]").ClickAsync(new());
        await deleting.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        page.WaitForAssertion(() => Services.GetRequiredService<NavigationManager>().Uri.Should().EndWith("/vms"));
        (await Db.Vms.FindAsync(vm.Id, Ct)).Should().BeNull();
        File.Exists(Db.Images.PathOf(image)).Should().BeFalse("the user asked for its disk images to go too");
        Snackbars.Should().Contain("Deleted doomed and its disk images doomed.img.");
    }
}
