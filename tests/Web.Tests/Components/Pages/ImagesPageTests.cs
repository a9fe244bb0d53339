using Bunit;
using MudBlazor;
using Platform.Web.Components.Pages;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Components.Pages;

public sealed class ImagesPageTests : DashboardTestContext
{
    [Fact]
    public async Task Deleting_an_image_in_use_names_only_the_vms_the_user_may_see()
    {
        ImageFile image;
        using (var content = new MemoryStream([1, 2, 3]))
        {
            image = (await Db.Images.UploadAsync(ImageKind.Disk, "shared-root.img", content, null, null, Ct)).Value!;
        }

        var seen = await UsingAsync("seen-user-of-image", image.Id);
        var hidden = await UsingAsync("hidden-user-of-image", image.Id);
        ActAs(Db.AddUser("image-keeper", (BuiltInRoles.AdministratorId, null), (BuiltInRoles.NoAccessId, hidden.Id)), "image-keeper");
        var dialogs = Render<MudDialogProvider>();
        var page = Render<ImagesPage>();
        page.WaitForAssertion(() => page.Markup.Should().Contain("seen-user-of-image and 1 other VM").And.NotContain("hidden-user-of-image"));

        // The click's handler waits for the dialog's answer, so it is not awaited here.
        var deleting = page.Find("button[aria-label='Delete shared-root.img']").ClickAsync(new());
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").Should().Contain(b => b.TextContent.Trim() == "Delete"));
        await dialogs.FindAll("button").First(b => b.TextContent.Trim() == "Delete").ClickAsync(new());
        await deleting.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Snackbars.Should().ContainSingle().Which.Should().Contain("seen-user-of-image and 1 other VM").And.NotContain("hidden-user-of-image");
        (await Db.Images.FindAsync(image.Id, Ct)).Should().NotBeNull();
    }

    private async Task<VirtualMachine> UsingAsync(string name, Guid imageId)
    {
        var input = new VmDefinitionInput { Name = name, KernelPath = "/boot/vmlinuz" };
        input.Disks.Add(new VmDiskInput { ImageId = imageId });
        return (await Db.Vms.CreateAsync(input, Ct)).Value!;
    }
}
