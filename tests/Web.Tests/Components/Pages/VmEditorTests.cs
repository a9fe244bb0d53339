using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Components.Pages;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Components.Pages;

public sealed class VmEditorTests : DashboardTestContext
{
    private static string Step(int step) => $"[data-testid=wizard-step-{step}]";

    private static void Type(IRenderedComponent<VmEditor> page, string testId, string value) =>
        page.Find($"[data-testid={testId}] input, input[data-testid={testId}]").Input(value);

    private static async Task NextAsync(IRenderedComponent<VmEditor> page) =>
        await page.Find("[data-testid=wizard-next]").ClickAsync(new());

    [Fact]
    public async Task In_a_cluster_the_last_step_offers_the_active_hosts()
    {
        Services.AddSingleton(new Platform.Web.Services.Cluster.ClusterSettings { ConnectionString = "Host=db", HostName = "host-a" });
        Services.AddSingleton<Platform.Web.Services.Cluster.IClusterHosts>(new FixedHosts(
        [
            new("host-a", "10.0.0.1:11111", Platform.Web.Services.Cluster.ClusterHostState.Active, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, true),
            new("host-b", "10.0.0.2:11111", Platform.Web.Services.Cluster.ClusterHostState.Active, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, false),
            new("host-gone", "10.0.0.3:11111", Platform.Web.Services.Cluster.ClusterHostState.Dead, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, false),
        ]));
        var page = Render<VmEditor>();
        Type(page, "field-name", "placed");
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(2));
        Type(page, "field-kernel-path", "/boot/vmlinuz");
        await NextAsync(page);
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(5));

        var host = page.FindComponents<MudBlazor.MudSelect<string>>().Single(s => Equals(s.Instance.UserAttributes["data-testid"], "field-host"));
        host.Instance.Placeholder.Should().Be("host-a", "left empty, the VM goes to this dashboard's host");
        host.FindComponents<MudBlazor.MudSelectItem<string>>().Select(i => i.Instance.Value).Should().Equal(["host-a", "host-b"], "only active hosts are offered");
    }

    private sealed class FixedHosts(IReadOnlyList<Platform.Web.Services.Cluster.ClusterHost> hosts) : Platform.Web.Services.Cluster.IClusterHosts
    {
        public Task<IReadOnlyList<Platform.Web.Services.Cluster.ClusterHost>> ListAsync(CancellationToken cancellationToken) => Task.FromResult(hosts);
    }

    [Fact]
    public async Task The_options_step_of_a_single_host_has_no_host_field()
    {
        var page = Render<VmEditor>();
        Type(page, "field-name", "unplaced");
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(2));
        Type(page, "field-kernel-path", "/boot/vmlinuz");
        await NextAsync(page);
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(5));

        page.FindAll("[data-testid=field-host]").Should().BeEmpty("a single host runs every VM: there is nothing to choose");
    }

    [Fact]
    public async Task An_invalid_name_shows_why_and_next_stays_on_the_step()
    {
        var page = Render<VmEditor>();
        page.WaitForElement(Step(0));

        Type(page, "field-name", "-web server");
        page.WaitForAssertion(() => page.Markup.Should().Contain("A name starts with a letter or a digit."));
        await NextAsync(page);

        page.FindAll(Step(0)).Should().ContainSingle("the wizard does not move past an invalid name");
    }

    [Fact]
    public async Task Next_checks_the_database_too_so_a_name_in_use_is_refused_ignoring_case()
    {
        await CreateVmAsync("taken");
        var page = Render<VmEditor>();
        page.WaitForElement(Step(0));

        Type(page, "field-name", "TAKEN");
        page.Markup.Should().NotContain("already exists", "uniqueness needs the database and is checked on Next");
        await NextAsync(page);

        page.WaitForAssertion(() => page.Markup.Should().Contain("A VM named TAKEN already exists"));
        page.FindAll(Step(0)).Should().ContainSingle();
    }

    [Fact]
    public async Task Memory_beyond_the_host_is_refused_on_the_hardware_step_and_vcpus_stay_in_range()
    {
        var page = Render<VmEditor>();
        Type(page, "field-name", "big");
        await NextAsync(page);
        page.WaitForElement(Step(1));

        Type(page, "field-memory", "20000");
        page.WaitForAssertion(() => page.Markup.Should().Contain("This host has 16384 MiB"));
        await NextAsync(page);
        page.FindAll(Step(1)).Should().ContainSingle();

        // The vCPU field holds to the engine's range by itself.
        Type(page, "field-vcpus", "17");
        page.WaitForAssertion(() => page.Find("input[data-testid=field-vcpus]").GetAttribute("value").Should().Be("16"));

        Type(page, "field-memory", "2048");
        await NextAsync(page);
        page.WaitForElement(Step(2));
    }

    [Fact]
    public async Task A_kernel_boot_needs_a_kernel_before_the_wizard_moves_on_and_then_creates_the_vm()
    {
        var page = Render<VmEditor>();
        Type(page, "field-name", "made-in-wizard");
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(2));

        await NextAsync(page);
        page.WaitForAssertion(() => page.Markup.Should().Contain("Choose a kernel"));
        page.FindAll(Step(2)).Should().ContainSingle();

        Type(page, "field-kernel-path", "/boot/vmlinuz");
        await NextAsync(page);
        page.WaitForElement(Step(3));
        page.FindAll("[data-testid^=nic-]").Where(e => e.GetAttribute("data-testid") is "nic-0").Should().ContainSingle("a new VM just has a network");
        await page.Find("[data-testid=add-nic]").ClickAsync(new());
        await NextAsync(page);
        page.WaitForElement(Step(4));
        await page.Find("input[data-testid=field-cloud-init]").ChangeAsync(new ChangeEventArgs { Value = true });
        page.WaitForElement("input[data-testid=field-cloud-init-user]");
        Type(page, "field-cloud-init-user", "Bad User");
        await NextAsync(page);
        page.FindAll(Step(4)).Should().ContainSingle("the wizard does not move past a bad user name");
        Type(page, "field-cloud-init-user", "alice");
        Type(page, "field-cloud-init-password", "wizard-pass");
        await NextAsync(page);
        page.WaitForElement(Step(5));
        page.Find("[data-testid=wizard-review]").TextContent.Should().Contain("user alice");
        await page.Find("[data-testid=wizard-save]").ClickAsync(new());

        var vm = (await Db.Vms.ListAsync(Ct)).Single(v => v.Name == "made-in-wizard");
        vm.KernelPath.Should().Be("/boot/vmlinuz");
        vm.Nics.Should().HaveCount(2);
        vm.Nics.Should().AllSatisfy(n => (n.NetworkId, n.TapName).Should().Be((Network.DefaultId, (string?)null), "the default NAT network, no TAP name typed"));
        vm.Nics.Select(n => n.MacAddress).Should().AllSatisfy(mac => mac.Should().StartWith("52:54:00:")).And.OnlyHaveUniqueItems();
        Services.GetRequiredService<NavigationManager>().Uri.Should().EndWith($"vms/{vm.Id}");
        Snackbars.Should().Contain("Created made-in-wizard.");
        (vm.CloudInit!.UserName, vm.CloudInit.Enabled).Should().Be(("alice", true));
        vm.CloudInit.PasswordHash.Should().StartWith("$6$", "the password is stored hashed");
    }

    [Fact]
    public async Task The_boot_step_makes_a_firmware_vm_with_a_cd_drive_its_iso_and_a_boot_order()
    {
        Guid isoId;
        using (var content = new MemoryStream(Platform.Web.Tests.Infrastructure.IsoImages.Make("INSTALL")))
        {
            isoId = (await Db.Images.UploadAsync(ImageKind.Iso, "installer.iso", content, null, null, Ct)).Value!.Id;
        }

        var page = Render<VmEditor>();
        Type(page, "field-name", "from-cd");
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(2));
        await page.Find("input[data-testid=field-boot-firmware]").ClickAsync(new());
        page.WaitForElement("[data-testid=field-boot-order]");
        page.FindAll("[data-testid=field-kernel]").Should().BeEmpty("the BIOS boots the disc, no kernel is asked for");
        await page.Find("input[data-testid=field-cdrom]").ChangeAsync(new ChangeEventArgs { Value = true });
        page.WaitForElement("[data-testid=field-cdrom-image]");
        await page.InvokeAsync(() => page.FindComponents<MudBlazor.MudSelect<Guid?>>()
            .Single(s => Equals(s.Instance.UserAttributes["data-testid"], "field-cdrom-image")).Instance.ValueChanged.InvokeAsync(isoId));
        await page.InvokeAsync(() => page.FindComponents<MudBlazor.MudSelect<string>>()
            .Single(s => Equals(s.Instance.UserAttributes["data-testid"], "field-boot-order")).Instance.ValueChanged.InvokeAsync("cdrom,disk"));

        await NextAsync(page);
        page.WaitForElement(Step(3));
        await NextAsync(page);
        page.FindAll(Step(3)).Should().ContainSingle("the boot order names the disk, and the VM has none yet");
        page.Markup.Should().Contain("names the disk, but the VM has no disks");
        await page.Find("[data-testid=add-blank-disk]").ClickAsync(new());
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(5));
        page.Find("[data-testid=wizard-review]").TextContent.Should().Contain("firmware (BIOS), CD-ROM, then disk").And.Contain("installer.iso");
        await page.Find("[data-testid=wizard-save]").ClickAsync(new());

        var vm = (await Db.Vms.ListAsync(Ct)).Single(v => v.Name == "from-cd");
        (vm.BootMode, vm.HasCdrom, vm.CdromImageId, vm.KernelPath, vm.CommandLine).Should().Be((BootMode.Firmware, true, (Guid?)isoId, (string?)null, (string?)null));
        vm.BootOrder.Should().Equal(BootDevice.Cdrom, BootDevice.Disk);
        vm.Disks.Should().ContainSingle();
    }

    [Fact]
    public async Task A_disk_goes_on_SATA_from_the_storage_step_and_a_seventh_SATA_disk_is_refused_until_it_moves_to_virtio()
    {
        var page = Render<VmEditor>();
        Type(page, "field-name", "sata-wizard");
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(2));
        Type(page, "field-kernel-path", "/boot/vmlinuz");
        await NextAsync(page);
        page.WaitForElement(Step(3));
        for (int i = 0; i < VmConfigLimits.AhciPorts + 1; i++)
        {
            await page.Find("[data-testid=add-blank-disk]").ClickAsync(new());
            int index = i;
            page.WaitForElement($"[data-testid=field-disk-{index}-bus]");
            await page.InvokeAsync(() => BusSelect(page, index).Instance.ValueChanged.InvokeAsync(DiskBus.Sata));
        }

        page.WaitForAssertion(() => page.Markup.Should().Contain("at most 6 SATA disks"));
        await NextAsync(page);
        page.FindAll(Step(3)).Should().ContainSingle("the wizard does not move past a seventh SATA disk");

        await page.InvokeAsync(() => BusSelect(page, 6).Instance.ValueChanged.InvokeAsync(DiskBus.Virtio));
        page.WaitForAssertion(() => page.Markup.Should().NotContain("at most 6 SATA disks"));
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(5));
        await page.Find("[data-testid=wizard-save]").ClickAsync(new());

        var vm = (await Db.Vms.ListAsync(Ct)).Single(v => v.Name == "sata-wizard");
        vm.Disks.OrderBy(d => d.Position).Select(d => d.Bus).Should().Equal([.. Enumerable.Repeat(DiskBus.Sata, 6), DiskBus.Virtio]);
    }

    private static IRenderedComponent<MudBlazor.MudSelect<DiskBus>> BusSelect(IRenderedComponent<VmEditor> page, int index) =>
        page.FindComponents<MudBlazor.MudSelect<DiskBus>>().Single(s => Equals(s.Instance.UserAttributes["data-testid"], $"field-disk-{index}-bus"));

    [Fact]
    public async Task The_hardware_step_chooses_input_devices_which_go_away_with_the_display()
    {
        var page = Render<VmEditor>();
        Type(page, "field-name", "ps2-wizard");
        await NextAsync(page);
        page.WaitForElement(Step(1));
        page.Find("input[data-testid=field-input-virtio]").HasAttribute("checked").Should().BeTrue("virtio is the default with a display");

        await page.Find("input[data-testid=field-input-ps2]").ClickAsync(new());
        page.WaitForAssertion(() => page.Find("[data-testid=field-input-help]").TextContent.Should().Contain("there is no pointer"));

        // Without a display there are no input devices to choose.
        await page.Find("input[data-testid=field-display]").ChangeAsync(new ChangeEventArgs { Value = false });
        page.WaitForAssertion(() => page.FindAll("[data-testid=field-input]").Should().BeEmpty());
        await page.Find("input[data-testid=field-display]").ChangeAsync(new ChangeEventArgs { Value = true });
        page.WaitForAssertion(() => page.Find("input[data-testid=field-input-virtio]").HasAttribute("checked").Should().BeTrue());
        await page.Find("input[data-testid=field-input-ps2]").ClickAsync(new());

        await NextAsync(page);
        Type(page, "field-kernel-path", "/boot/vmlinuz");
        await NextAsync(page);
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(5));
        page.Find("[data-testid=wizard-review]").TextContent.Should().Contain("PS/2 keyboard");
        await page.Find("[data-testid=wizard-save]").ClickAsync(new());

        var vm = (await Db.Vms.ListAsync(Ct)).Single(v => v.Name == "ps2-wizard");
        (vm.DisplayEnabled, vm.Input).Should().Be((true, InputKind.Ps2));
    }

    [Fact]
    public async Task The_options_step_sets_the_on_crash_policy()
    {
        var vm = await CreateVmAsync("crash-policy");
        vm.OnCrash.Should().Be(Platform.Web.Data.CrashPolicy.Stay);
        var page = Render<VmEditor>(p => p.Add(e => e.Id, vm.Id));
        page.WaitForElement(Step(0));
        foreach (var _ in Enumerable.Range(0, 5))
        {
            await NextAsync(page);
        }

        page.WaitForElement(Step(5));
        page.Find("input[data-testid=field-on-crash-stay]").HasAttribute("checked").Should().BeTrue();

        await page.Find("input[data-testid=field-on-crash-restart]").ClickAsync(new());
        page.WaitForAssertion(() => page.Find("[data-testid=wizard-review]").TextContent.Should().Contain("restart"));
        await page.Find("[data-testid=wizard-save]").ClickAsync(new());

        (await Db.Vms.FindAsync(vm.Id, Ct))!.OnCrash.Should().Be(Platform.Web.Data.CrashPolicy.Restart);
    }

    [Fact]
    public async Task A_save_over_someone_elses_change_is_refused_and_reload_shows_theirs()
    {
        var vm = await CreateVmAsync("shared", memoryMiB: 512);
        var page = Render<VmEditor>(p => p.Add(e => e.Id, vm.Id));
        page.WaitForElement(Step(0));

        // Someone else saves while this page is open.
        var theirs = VmDefinitionInput.From(vm);
        theirs.MemoryMiB = 2048;
        (await Db.Vms.UpdateAsync(vm.Id, theirs, vm.ConcurrencyStamp, Ct)).Succeeded.Should().BeTrue();

        await NextAsync(page);
        Type(page, "field-memory", "768");
        foreach (var _ in Enumerable.Range(0, 4))
        {
            await NextAsync(page);
        }

        await page.Find("[data-testid=wizard-save]").ClickAsync(new());

        page.WaitForAssertion(() => page.Find("[data-testid=editor-conflict]").TextContent.Should().Contain("changed by someone else"));
        (await Db.Vms.FindAsync(vm.Id, Ct))!.MemoryMiB.Should().Be(2048, "their change was not overwritten");

        await page.Find("[data-testid=editor-reload]").ClickAsync(new());
        page.WaitForAssertion(() => page.FindAll("[data-testid=editor-conflict]").Should().BeEmpty());
        foreach (var _ in Enumerable.Range(0, 4))
        {
            await page.Find("[data-testid=wizard-back]").ClickAsync(new());
        }

        page.WaitForElement(Step(1));
        page.Find("[data-testid=field-memory] input, input[data-testid=field-memory]").GetAttribute("value").Should().Be("2048");
    }

    [Fact]
    public async Task Editing_a_running_vm_says_when_the_change_takes_effect()
    {
        var vm = await CreateVmAsync("busy");
        Runtime.SetState(vm.Id, Platform.Web.Services.Runtime.VmPowerState.Running);
        var page = Render<VmEditor>(p => p.Add(e => e.Id, vm.Id));
        page.WaitForAssertion(() => page.Find("[data-testid=editor-running-note]").TextContent.Should().Contain("busy is running: changes take effect the next time it starts"));
    }

    [Fact]
    public async Task A_vm_admin_saving_a_new_host_path_is_refused_and_audited_but_may_keep_the_ones_there()
    {
        var vm = await CreateVmAsync("path-kept");
        ActAs(Db.AddUser("vmadmin-editor", (BuiltInRoles.VmAdminId, null)), "vmadmin-editor");
        var page = Render<VmEditor>(p => p.Add(e => e.Id, vm.Id));
        page.WaitForElement(Step(0));
        await NextAsync(page);
        await NextAsync(page);
        page.WaitForElement(Step(2));
        Type(page, "field-kernel-path", "/etc/shadow");
        foreach (var _ in Enumerable.Range(0, 3))
        {
            await NextAsync(page);
        }

        await page.Find("[data-testid=wizard-save]").ClickAsync(new());

        page.WaitForAssertion(() => Snackbars.Should().Contain(s => s != null && s.Contains("/etc/shadow", StringComparison.Ordinal) && s.Contains("User.Manage", StringComparison.Ordinal)));
        (await Db.Vms.FindAsync(vm.Id, Ct))!.KernelPath.Should().Be("/boot/vmlinuz");
        var audit = await Db.Audit.ListAsync(new AuditQuery { UserName = "vmadmin-editor", Action = AuditActions.VmUpdate }, Ct);
        audit.Items.Should().ContainSingle().Which.Result.Should().Be(AuditResult.Denied);

        foreach (var _ in Enumerable.Range(0, 3))
        {
            await page.Find("[data-testid=wizard-back]").ClickAsync(new());
        }

        Type(page, "field-kernel-path", "/boot/vmlinuz");
        foreach (var _ in Enumerable.Range(0, 3))
        {
            await NextAsync(page);
        }

        await page.Find("[data-testid=wizard-save]").ClickAsync(new());
        page.WaitForAssertion(() => Snackbars.Should().Contain("Saved path-kept."));
    }
}
