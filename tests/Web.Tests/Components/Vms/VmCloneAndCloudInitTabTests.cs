using Bunit;
using Platform.Web.Components.Vms;
using Platform.Web.Data;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Components.Vms;

/// <summary>The Clone and Cloud-init tabs on the real services: a full copy's progress to 100 %, and settings saved or refused by field.</summary>
public sealed class VmCloneAndCloudInitTabTests : DashboardTestContext
{
    private static void Type<T>(IRenderedComponent<T> tab, string testId, string value) where T : Microsoft.AspNetCore.Components.IComponent =>
        tab.Find($"[data-testid={testId}] input, input[data-testid={testId}], [data-testid={testId}] textarea, textarea[data-testid={testId}]").Input(value);

    [Fact]
    public async Task A_full_copy_shows_its_percentage_and_bytes_then_a_link_to_the_new_vm()
    {
        var vm = (await Db.Vms.CreateAsync(new VmDefinitionInput
        {
            Name = "tab-src", KernelPath = "/boot/vmlinuz", Disks = [new VmDiskInput { Blank = new BlankDiskInput { SizeBytes = 16L << 20 } }],
        }, Ct)).Value!;
        QemuTools.WritePattern(Db.DiskFiles.PathOf(vm.Disks[0]), 0, 0x42);
        var tab = Render<VmCloneTab>(p => p.Add(t => t.Vm, vm).Add(t => t.State, VmPowerState.Stopped));

        Type(tab, "clone-name", "tab-copy");
        await tab.Find("[data-testid=clone-start]").ClickAsync(new());

        tab.WaitForAssertion(() => tab.Find("[data-testid=clone-message]").TextContent.Should().Contain("a full copy of 1 disk (16 MiB)"), TimeSpan.FromSeconds(30));
        tab.Find("[data-testid=clone-bytes]").TextContent.Should().Be("100 % · 16 MiB of 16 MiB");
        var copy = (await Db.Vms.ListAsync(Ct)).Single(v => v.Name == "tab-copy");
        tab.Find("[data-testid=clone-open]").GetAttribute("href").Should().Be($"vms/{copy.Id}");
    }

    [Fact]
    public async Task The_cloud_init_tab_saves_with_the_password_hashed_and_shows_each_bad_field()
    {
        var vm = await CreateVmAsync("tab-ci");
        var tab = Render<VmCloudInitTab>(p => p.Add(t => t.Vm, vm).Add(t => t.State, VmPowerState.Stopped));

        Type(tab, "cloud-init-user", "alice");
        Type(tab, "cloud-init-keys", "ssh-ed25519 broken");
        await tab.Find("[data-testid=cloud-init-save]").ClickAsync(new());
        tab.WaitForAssertion(() => tab.Markup.Should().Contain("Line 1:"));
        (await Db.Vms.FindAsync(vm.Id, Ct))!.CloudInit.Should().BeNull("nothing was saved");

        Type(tab, "cloud-init-keys", "");
        Type(tab, "cloud-init-password", "tab-password");
        await tab.Find("[data-testid=cloud-init-save]").ClickAsync(new());

        tab.WaitForAssertion(() => tab.Markup.Should().Contain("A password is set (stored hashed)"));
        var saved = (await Db.Vms.FindAsync(vm.Id, Ct))!.CloudInit!;
        (saved.UserName, saved.Enabled).Should().Be(("alice", true));
        saved.PasswordHash.Should().StartWith("$6$");
        tab.Find("input[data-testid=cloud-init-password]").GetAttribute("value").Should().BeNullOrEmpty("the password is never shown");
    }
}
