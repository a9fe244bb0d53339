using Bunit;
using MudBlazor;
using Platform.Web.Components.Vms;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Components.Vms;

public sealed class VmCdromPanelTests : DashboardTestContext
{
    private async Task<ImageFile> IsoAsync(string name, string label)
    {
        using var content = new MemoryStream(IsoImages.Make(label));
        var result = await Db.Images.UploadAsync(ImageKind.Iso, name, content, null, null, Ct);
        result.Succeeded.Should().BeTrue(result.Message);
        return result.Value!;
    }

    private IRenderedComponent<VmCdromPanel> RenderPanel(VirtualMachine vm, VmPowerState state) =>
        Render<VmCdromPanel>(p => p.Add(c => c.Vm, vm).Add(c => c.State, state));

    private static Task ChooseAsync(IRenderedComponent<VmCdromPanel> panel, Guid imageId)
    {
        var select = panel.FindComponents<MudSelect<Guid?>>().Single(s => Equals(s.Instance.UserAttributes["data-testid"], "cdrom-image"));
        return panel.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(imageId));
    }

    private static string Medium(IRenderedComponent<VmCdromPanel> panel) => panel.Find("[data-testid=cdrom-medium]").TextContent;

    [Fact]
    public async Task On_a_stopped_vm_the_drive_is_added_a_disc_inserted_and_ejected_in_its_definition()
    {
        var vm = await CreateVmAsync("cd-panel");
        var iso = await IsoAsync("debian-netinst.iso", "Debian 13 amd64 n");
        var panel = RenderPanel(vm, VmPowerState.Stopped);
        panel.Find("[data-testid=cdrom-none]");

        await panel.Find("[data-testid=cdrom-add]").ClickAsync(new());
        panel.WaitForAssertion(() => Medium(panel).Should().Contain("empty"));
        (await Db.Vms.FindAsync(vm.Id, Ct))!.HasCdrom.Should().BeTrue();

        await ChooseAsync(panel, iso.Id);
        await panel.Find("[data-testid=cdrom-insert]").ClickAsync(new());
        panel.WaitForAssertion(() => Medium(panel).Should().Contain("debian-netinst.iso (Debian 13 amd64 n)"));
        (await Db.Vms.FindAsync(vm.Id, Ct))!.CdromImageId.Should().Be(iso.Id);
        Drive.Calls.Should().BeEmpty("a stopped VM has no VMM to tell");

        await panel.Find("[data-testid=cdrom-eject]").ClickAsync(new());
        panel.WaitForAssertion(() => Medium(panel).Should().Contain("empty"));
        (await Db.Vms.FindAsync(vm.Id, Ct))!.CdromImageId.Should().BeNull();
        Snackbars.Should().Contain(["Added a CD-ROM drive.", "Inserted debian-netinst.iso.", "Ejected the disc."]);

        await panel.Find("[data-testid=cdrom-remove]").ClickAsync(new());
        panel.WaitForElement("[data-testid=cdrom-none]");
        (await Db.Vms.FindAsync(vm.Id, Ct))!.HasCdrom.Should().BeFalse();
    }

    [Fact]
    public async Task On_a_running_vm_the_disc_shown_is_the_one_the_vmm_reports_and_a_locked_tray_offers_force()
    {
        var iso = await IsoAsync("live.iso", "LIVE");
        var created = await Db.Vms.CreateAsync(new Platform.Web.Services.Vms.VmDefinitionInput
        {
            Name = "cd-running", BootMode = BootMode.Firmware, Cdrom = new() { ImageId = iso.Id },
        }, Ct);
        var vm = created.Value!;
        string path = Db.Images.PathOf(iso);
        Runtime.SetState(vm.Id, VmPowerState.Running);
        Drive.SetDrive(vm.Id, path, locked: true);

        var panel = RenderPanel(vm, VmPowerState.Running);
        panel.WaitForAssertion(() => Medium(panel).Should().Contain("live.iso (LIVE)").And.Contain("as the running VM's drive has it"));
        panel.Find("[data-testid=cdrom-tray]").TextContent.Should().Contain("locked by the guest");
        panel.FindAll("[data-testid=cdrom-remove] [disabled], button[data-testid=cdrom-remove][disabled]").Should().NotBeEmpty("the drive goes only while the VM is stopped");

        await panel.Find("[data-testid=cdrom-eject]").ClickAsync(new());
        panel.WaitForAssertion(() => panel.Find("[data-testid=cdrom-error]").TextContent.Should().Contain("locked the drive"));
        (await Db.Vms.FindAsync(vm.Id, Ct))!.CdromImageId.Should().Be(iso.Id, "the VMM refused, so nothing changed");

        await panel.Find("[data-testid=cdrom-force-eject]").ClickAsync(new());
        panel.WaitForAssertion(() => Medium(panel).Should().StartWith("empty"));
        Drive.Calls.Should().Equal($"eject {vm.Id} force=False", $"eject {vm.Id} force=True");

        // Whatever changes the drive (the API, the guest, another page), the next stats sample shows it here.
        var drive = new DeviceStats("cdrom0", "ahci-cdrom", new Dictionary<string, long> { ["medium"] = 1, ["locked"] = 0 }) { Medium = path };
        RuntimeInfo.Publish(new VmStatsSample(vm.Id, new VmmStats(1, 1000, 64 << 20, 8 << 20, [], [drive]), DateTimeOffset.UtcNow));
        panel.WaitForAssertion(() => Medium(panel).Should().Contain("live.iso (LIVE)"));
        panel.Find("[data-testid=cdrom-tray]").TextContent.Should().Contain("not locked");
    }

    [Fact]
    public async Task A_vm_user_may_eject_but_needs_image_use_to_insert()
    {
        var iso = await IsoAsync("seen.iso", "SEEN");
        var vm = (await Db.Vms.CreateAsync(new Platform.Web.Services.Vms.VmDefinitionInput
        {
            Name = "cd-roles", BootMode = BootMode.Firmware, Cdrom = new() { ImageId = iso.Id },
        }, Ct)).Value!;

        ActAs(Db.AddUser("cd-vmuser", (BuiltInRoles.VmUserId, null)), "cd-vmuser");
        var asUser = RenderPanel(vm, VmPowerState.Stopped);
        asUser.FindAll("[data-testid=cdrom-eject]").Should().ContainSingle();
        asUser.FindAll("[data-testid=cdrom-insert]").Should().BeEmpty("choosing a library image needs Image.Use");
        asUser.FindAll("[data-testid=cdrom-remove]").Should().BeEmpty("removing the drive is VM.Config");
        await asUser.Find("[data-testid=cdrom-eject]").ClickAsync(new());
        asUser.WaitForAssertion(() => Medium(asUser).Should().Contain("empty"));
    }

    [Fact]
    public async Task An_auditor_sees_the_drive_and_no_button()
    {
        var iso = await IsoAsync("looked-at.iso", "LOOK");
        var vm = (await Db.Vms.CreateAsync(new Platform.Web.Services.Vms.VmDefinitionInput
        {
            Name = "cd-auditor-vm", BootMode = BootMode.Firmware, Cdrom = new() { ImageId = iso.Id },
        }, Ct)).Value!;
        ActAs(Db.AddUser("cd-auditor", (BuiltInRoles.AuditorId, null)), "cd-auditor");
        var asAuditor = RenderPanel(vm, VmPowerState.Stopped);
        Medium(asAuditor).Should().Contain("looked-at.iso (LOOK)");
        asAuditor.FindAll("[data-testid=cdrom-actions] button").Should().BeEmpty();
    }
}
