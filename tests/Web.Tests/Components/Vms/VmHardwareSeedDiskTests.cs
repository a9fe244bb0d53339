using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Components.Vms;
using Platform.Web.Security;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Components.Vms;

/// <summary>
/// The Hardware tab lists the cloud-init seed as the last disk: raw, read-only, its size once a start wrote it, its path
/// for administrators only, and no controls (its settings make it).
/// </summary>
public sealed class VmHardwareSeedDiskTests : DashboardTestContext
{
    private async Task<Platform.Web.Data.VirtualMachine> CreateSeededVmAsync(string name)
    {
        var created = await Db.Vms.CreateAsync(new VmDefinitionInput
        {
            Name = name, KernelPath = "/boot/vmlinuz", Disks = [new VmDiskInput { Blank = new BlankDiskInput { SizeBytes = 8L << 20 } }],
            Nics = [VmNicInput.OnDefaultNetwork()], CloudInit = new CloudInitInput { UserName = "alice", Password = "pw-alice" },
        }, Ct);
        created.Succeeded.Should().BeTrue(string.Join("; ", created.Errors.SelectMany(e => e.Value)));
        return created.Value!;
    }

    [Fact]
    public async Task The_seed_is_the_last_disk_read_only_with_its_size_and_path_and_no_controls()
    {
        var vm = await CreateSeededVmAsync("hw-seed");
        var cloudInit = Services.GetRequiredService<CloudInitService>();

        var before = Render<VmHardwareTab>(p => p.Add(t => t.Vm, vm));
        before.Find("[data-testid=disk-seed-note]").TextContent.Should().Be("Written at the VM's next start.");
        before.Find("[data-testid=disk-size-seed]").TextContent.Should().Be("—");

        string seed = cloudInit.EnsureSeed(vm)!;
        var tab = Render<VmHardwareTab>(p => p.Add(t => t.Vm, vm));

        var rows = tab.FindAll("[data-testid=vm-disks] tr").Where(r => r.QuerySelector("td") is not null).ToList();
        rows.Should().HaveCount(2);
        rows[^1].TextContent.Should().Contain("cloud-init seed (cidata)").And.Contain("raw").And.Contain("read-only");
        rows[^1].QuerySelector("td")!.TextContent.Trim().Should().Be("2", "it comes after the VM's one disk");
        tab.Find("[data-testid=disk-size-seed]").TextContent.Should().Be(Platform.Web.Services.Images.ImageLibrary.FormatSize(new FileInfo(seed).Length));
        tab.Find("[data-testid=disk-seed-path]").TextContent.Should().Be(seed);
        tab.FindAll("[data-testid=disk-seed-note]").Should().BeEmpty("the seed holds the settings as they are");
        rows[^1].QuerySelectorAll("button, input").Should().BeEmpty("the seed is neither edited, grown, moved nor detached here");
        rows[0].QuerySelectorAll("button").Should().NotBeEmpty("the VM's own disk keeps its controls");
    }

    [Fact]
    public async Task Changed_settings_are_noted_and_the_path_is_for_administrators_only()
    {
        var vm = await CreateSeededVmAsync("hw-seed-user");
        Services.GetRequiredService<CloudInitService>().EnsureSeed(vm);
        (await Services.GetRequiredService<CloudInitService>().SaveAsync(vm.Id, new CloudInitInput { UserName = "bob", Password = "pw-bob" }, Ct))
            .Succeeded.Should().BeTrue();
        vm = (await Db.Vms.FindAsync(vm.Id, Ct))!;
        ActAs(Db.AddUser("seed-viewer", (BuiltInRoles.VmAdminId, vm.Id)), "seed-viewer");

        var tab = Render<VmHardwareTab>(p => p.Add(t => t.Vm, vm));

        tab.Find("[data-testid=disk-seed-note]").TextContent.Should().Contain("written again, with a new instance id, at the VM's next start");
        tab.FindAll("[data-testid=disk-seed-path]").Should().BeEmpty("the path names the host's folders");
        tab.Find("[data-testid=disk-mode-seed]").TextContent.Should().Be("read-only");
    }
}
