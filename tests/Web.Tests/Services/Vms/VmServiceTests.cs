using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.Vms;

public sealed class VmServiceTests : IDisposable
{
    private readonly TestDatabase _db = new();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose() => _db.Dispose();

    private static VmDefinitionInput Input(string name = "web") => new()
    {
        Name = name, VcpuCount = 2, MemoryMiB = 1024, KernelPath = "/boot/vmlinuz", CommandLine = "console=ttyS0",
    };

    [Fact]
    public async Task A_disk_boot_drops_the_kernel_but_keeps_its_extra_kernel_arguments()
    {
        var input = Input("disk-boot");
        input.BootMode = BootMode.Disk;
        input.InitrdPath = "/boot/initrd.img";
        input.CommandLine = " systemd.unit=rescue.target ";
        input.Disks.Add(new VmDiskInput { Path = "/data/root.img" });

        var result = await _db.Vms.CreateAsync(input, _ct);

        result.Succeeded.Should().BeTrue(result.Message);
        var vm = (await _db.Vms.FindAsync(result.Value!.Id, _ct))!;
        (vm.KernelPath, vm.InitrdPath).Should().Be((null, null));
        vm.CommandLine.Should().Be("systemd.unit=rescue.target");
    }

    [Fact]
    public async Task Create_stores_every_field_generates_missing_macs_and_logs_an_event()
    {
        var input = Input();
        input.Description = "  front end  ";
        input.InitrdPath = "/boot/initrd.img";
        input.Disks.Add(new VmDiskInput { Path = "/data/root.img", Cache = DiskCacheMode.None });
        input.Disks.Add(new VmDiskInput { Path = "/data/seed.iso", ReadOnly = true });
        input.Nics.Add(new VmNicInput { TapName = "tap0" });
        input.Nics.Add(new VmNicInput { TapName = "tap1", MacAddress = "52:54:00:AA:BB:CC" });
        input.OnReboot = RebootPolicy.Exit;
        input.Autostart = true;
        input.DisplayEnabled = false;

        var result = await _db.Vms.CreateAsync(input, _ct);

        result.Succeeded.Should().BeTrue(result.Message);
        var vm = (await _db.Vms.FindAsync(result.Value!.Id, _ct))!;
        vm.Description.Should().Be("front end");
        vm.InitrdPath.Should().Be("/boot/initrd.img");
        vm.Disks.Select(d => (d.Position, d.Path, d.ReadOnly, d.Cache)).Should().Equal(
            (0, "/data/root.img", false, DiskCacheMode.None), (1, "/data/seed.iso", true, DiskCacheMode.Writeback));
        vm.Nics[0].MacAddress.Should().StartWith("52:54:00:");
        vm.Nics[1].MacAddress.Should().Be("52:54:00:aa:bb:cc");
        (vm.OnReboot, vm.Autostart, vm.DisplayEnabled).Should().Be((RebootPolicy.Exit, true, false));
        var events = await _db.Events.ListAsync(vm.Id, 0, 10, _ct);
        events.Items.Should().ContainSingle().Which.Kind.Should().Be(VmEventKinds.Created);
    }

    [Fact]
    public async Task Input_defaults_to_virtio_with_a_display_and_is_kept_only_while_there_is_one()
    {
        var withDisplay = (await _db.Vms.CreateAsync(Input("display-default"), _ct)).Value!;
        withDisplay.Input.Should().Be(InputKind.Virtio, "left out with a display, input is platform-vmm's default");

        var ps2 = Input("ps2");
        ps2.Input = InputKind.Ps2;
        var created = (await _db.Vms.CreateAsync(ps2, _ct)).Value!;
        created.Input.Should().Be(InputKind.Ps2);
        VmDefinitionInput.From(created).Input.Should().Be(InputKind.Ps2, "the wizard edits what is stored");

        var headless = VmDefinitionInput.From(created);
        headless.DisplayEnabled = false;
        (await _db.Vms.UpdateAsync(created.Id, headless, created.ConcurrencyStamp, _ct)).Errors.Should().ContainKey("input");
        headless.Input = null;
        var saved = await _db.Vms.UpdateAsync(created.Id, headless, created.ConcurrencyStamp, _ct);
        saved.Succeeded.Should().BeTrue(saved.Message);
        saved.Value!.Input.Should().BeNull("without a display there are no input devices");
    }

    [Fact]
    public async Task Names_are_unique_without_regard_to_case()
    {
        (await _db.Vms.CreateAsync(Input("Web"), _ct)).Succeeded.Should().BeTrue();
        var second = await _db.Vms.CreateAsync(Input("wEB"), _ct);
        second.Status.Should().Be(ServiceStatus.Invalid);
        second.Errors["name"].Single().Should().Contain("already exists");
    }

    [Fact]
    public async Task The_database_itself_refuses_a_second_name_differing_in_case()
    {
        // What protects two saves that both passed validation at once.
        await using var db = await _db.Factory.CreateDbContextAsync(_ct);
        db.VirtualMachines.Add(new VirtualMachine { Name = "alpha" });
        db.VirtualMachines.Add(new VirtualMachine { Name = "ALPHA" });
        var save = () => db.SaveChangesAsync(_ct);
        await save.Should().ThrowAsync<DbUpdateException>();
    }

    [Fact]
    public async Task An_edit_from_an_old_stamp_is_refused_and_the_other_edit_survives()
    {
        var created = (await _db.Vms.CreateAsync(Input(), _ct)).Value!;
        var alice = VmDefinitionInput.From(created);
        var bob = VmDefinitionInput.From(created);
        alice.MemoryMiB = 2048;
        bob.VcpuCount = 4;

        var first = await _db.Vms.UpdateAsync(created.Id, alice, created.ConcurrencyStamp, _ct);
        var second = await _db.Vms.UpdateAsync(created.Id, bob, created.ConcurrencyStamp, _ct);

        first.Succeeded.Should().BeTrue();
        first.Value!.ConcurrencyStamp.Should().NotBe(created.ConcurrencyStamp);
        second.Status.Should().Be(ServiceStatus.Conflict);
        second.Message.Should().Contain("changed by someone else").And.Contain("Reload");
        var stored = (await _db.Vms.FindAsync(created.Id, _ct))!;
        (stored.MemoryMiB, stored.VcpuCount).Should().Be((2048, 2), "the second edit was neither saved nor merged");
    }

    [Fact]
    public async Task An_edit_that_races_past_the_stamp_check_is_caught_by_the_database()
    {
        var created = (await _db.Vms.CreateAsync(Input(), _ct)).Value!;
        // Someone saves between our read and our write: simulate by changing the stamp behind the service's back.
        await using (var db = await _db.Factory.CreateDbContextAsync(_ct))
        {
            await db.VirtualMachines.Where(v => v.Id == created.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(v => v.ConcurrencyStamp, Guid.NewGuid()), _ct);
        }

        var edit = VmDefinitionInput.From(created);
        edit.MemoryMiB = 4096;
        (await _db.Vms.UpdateAsync(created.Id, edit, created.ConcurrencyStamp, _ct)).Status.Should().Be(ServiceStatus.Conflict);
    }

    [Fact]
    public async Task Edits_replace_disks_and_nics_in_order_and_keep_macs()
    {
        var input = Input();
        input.Disks.Add(new VmDiskInput { Path = "/d/a.img" });
        input.Disks.Add(new VmDiskInput { Path = "/d/b.img" });
        input.Nics.Add(new VmNicInput { TapName = "tap0" });
        var created = (await _db.Vms.CreateAsync(input, _ct)).Value!;
        string mac = created.Nics[0].MacAddress;

        var edit = VmDefinitionInput.From(created);
        edit.Disks.RemoveAt(0);
        edit.Disks.Add(new VmDiskInput { Path = "/d/c.img", ReadOnly = true });
        edit.Nics.Add(new VmNicInput { TapName = "tap1" });
        var updated = await _db.Vms.UpdateAsync(created.Id, edit, created.ConcurrencyStamp, _ct);

        updated.Succeeded.Should().BeTrue(updated.Message);
        updated.Value!.Disks.Select(d => d.Path).Should().Equal("/d/b.img", "/d/c.img");
        updated.Value.Nics.Select(n => n.TapName).Should().Equal("tap0", "tap1");
        updated.Value.Nics[0].MacAddress.Should().Be(mac, "an edit keeps the address the guest knows");
        await using var db = await _db.Factory.CreateDbContextAsync(_ct);
        (await db.VmDisks.CountAsync(_ct)).Should().Be(2, "the removed disk row is gone");
    }

    [Fact]
    public async Task A_mac_another_vm_uses_is_refused()
    {
        var a = Input("a");
        a.Nics.Add(new VmNicInput { TapName = "tap0", MacAddress = "52:54:00:00:00:01" });
        (await _db.Vms.CreateAsync(a, _ct)).Succeeded.Should().BeTrue();
        var b = Input("b");
        b.Nics.Add(new VmNicInput { TapName = "tap1", MacAddress = "52:54:00:00:00:01" });
        var result = await _db.Vms.CreateAsync(b, _ct);
        result.Errors["nics[0].macAddress"].Single().Should().Contain("a already has");
    }

    [Fact]
    public async Task Library_images_must_exist_and_be_of_the_right_kind()
    {
        var initrd = await Upload(ImageKind.Initrd, "initrd.img");
        var input = Input();
        input.KernelPath = null;
        input.KernelImageId = initrd.Id;
        input.Disks.Add(new VmDiskInput { ImageId = Guid.NewGuid() });
        var errors = (await _db.Vms.CreateAsync(input, _ct)).Errors;
        errors["kernel"].Single().Should().Contain("initrd.img is an initrd, not a kernel");
        errors["disks[0]"].Single().Should().Contain("not in the library");
    }

    [Fact]
    public async Task A_running_vm_cannot_be_deleted()
    {
        var vm = (await _db.Vms.CreateAsync(Input(), _ct)).Value!;
        _db.Runtime.SetState(vm.Id, VmPowerState.Running);
        var result = await _db.Vms.DeleteAsync(vm.Id, null, keepDiskImages: true, _ct);
        result.Status.Should().Be(ServiceStatus.Conflict);
        result.Message.Should().Contain("is running; stop it");
        (await _db.Vms.FindAsync(vm.Id, _ct)).Should().NotBeNull();
    }

    [Fact]
    public async Task A_vm_waiting_for_its_restart_may_be_deleted_and_the_runtime_forgets_it()
    {
        var vm = (await _db.Vms.CreateAsync(Input(), _ct)).Value!;
        _db.Runtime.SetState(vm.Id, VmPowerState.Restarting);

        var result = await _db.Vms.DeleteAsync(vm.Id, null, keepDiskImages: true, _ct);

        result.Succeeded.Should().BeTrue(result.Message);
        _db.Runtime.Calls.Should().Contain(("forget", vm.Id), "the restart it was waiting for must not bring it back");
        (await _db.Vms.FindAsync(vm.Id, _ct)).Should().BeNull();
    }

    [Fact]
    public async Task Delete_with_a_stale_stamp_is_refused()
    {
        var vm = (await _db.Vms.CreateAsync(Input(), _ct)).Value!;
        (await _db.Vms.DeleteAsync(vm.Id, Guid.NewGuid(), true, _ct)).Status.Should().Be(ServiceStatus.Conflict);
        (await _db.Vms.DeleteAsync(vm.Id, vm.ConcurrencyStamp, true, _ct)).Succeeded.Should().BeTrue();
    }

    [Fact]
    public async Task Delete_keeps_disk_images_when_asked_and_otherwise_deletes_those_no_other_vm_uses()
    {
        var own = await Upload(ImageKind.Disk, "own.img");
        var shared = await Upload(ImageKind.Disk, "shared.img");
        var kernel = await Upload(ImageKind.Kernel, "vmlinuz");
        var first = Input("first");
        first.KernelPath = null;
        first.KernelImageId = kernel.Id;
        first.Disks.Add(new VmDiskInput { ImageId = own.Id });
        first.Disks.Add(new VmDiskInput { ImageId = shared.Id });
        var second = Input("second");
        second.Disks.Add(new VmDiskInput { ImageId = shared.Id });
        var keeper = Input("keeper");
        keeper.Disks.Add(new VmDiskInput { ImageId = own.Id });
        var vm1 = (await _db.Vms.CreateAsync(first, _ct)).Value!;
        (await _db.Vms.CreateAsync(second, _ct)).Succeeded.Should().BeTrue();
        var vm3 = (await _db.Vms.CreateAsync(keeper, _ct)).Value!;

        var kept = await _db.Vms.DeleteAsync(vm3.Id, null, keepDiskImages: true, _ct);
        kept.Value.Should().BeEmpty();
        File.Exists(_db.Images.PathOf(own)).Should().BeTrue();

        var deleted = await _db.Vms.DeleteAsync(vm1.Id, null, keepDiskImages: false, _ct);

        deleted.Value.Should().Equal("own.img");
        File.Exists(_db.Images.PathOf(own)).Should().BeFalse();
        File.Exists(_db.Images.PathOf(shared)).Should().BeTrue("the second VM still uses it");
        File.Exists(_db.Images.PathOf(kernel)).Should().BeTrue("kernels are not disk images");
        (await _db.Events.ListAsync(vm1.Id, 0, 1, _ct)).Items.Single().Message.Should().Contain("Kept shared.img");
    }

    [Fact]
    public async Task A_linked_clone_base_is_never_written_directly_and_deleting_the_vm_deletes_its_overlay_not_the_base()
    {
        ImageFile template;
        using (var content = new MemoryStream(new byte[65536]))
        {
            template = (await _db.Images.UploadAsync(ImageKind.Disk, "template.img", content, null, null, _ct)).Value!;
        }

        var clone = Input("clone");
        clone.Disks.Add(new VmDiskInput { ImageId = template.Id, LinkedClone = true });
        var cloneVm = (await _db.Vms.CreateAsync(clone, _ct)).Value!;
        cloneVm.Disks.Single().LinkedClone.Should().BeTrue();

        var writer = Input("writer");
        writer.Disks.Add(new VmDiskInput { ImageId = template.Id });
        var refused = await _db.Vms.CreateAsync(writer, _ct);
        refused.Errors["disks[0]"].Single().Should().Contain("base of a linked clone of clone");
        writer.Disks[0].ReadOnly = true;
        (await _db.Vms.CreateAsync(writer, _ct)).Succeeded.Should().BeTrue("reading the base directly is harmless");

        var both = Input("both");
        both.Disks.Add(new VmDiskInput { ImageId = template.Id, LinkedClone = true });
        both.Disks.Add(new VmDiskInput { ImageId = template.Id });
        (await _db.Vms.CreateAsync(both, _ct)).Errors.Keys.Should().Contain("disks[0]").And.Contain("disks[1]");
        var hostPath = Input("host-path");
        hostPath.Disks.Add(new VmDiskInput { Path = "/data/x.img", LinkedClone = true });
        (await _db.Vms.CreateAsync(hostPath, _ct)).Value!.Disks.Single().LinkedClone.Should().BeFalse("only a library image has a base to clone");

        var loaded = (await _db.Vms.FindAsync(cloneVm.Id, _ct))!;
        string overlay = _db.Images.EnsureLinkedClone(loaded.Disks.Single());
        (await _db.Images.DeleteAsync(template.Id, _ct)).Status.Should().Be(ServiceStatus.Conflict, "a base in use is not deleted");

        var deleted = await _db.Vms.DeleteAsync(cloneVm.Id, null, keepDiskImages: false, _ct);

        deleted.Value.Should().BeEmpty("the base is a shared template, not the VM's own image");
        File.Exists(overlay).Should().BeFalse();
        File.Exists(_db.Images.PathOf(template)).Should().BeTrue();
        (await _db.Events.ListAsync(cloneVm.Id, 0, 1, _ct)).Items.Single().Message.Should().Contain("Deleted its linked clones");
    }

    private async Task<ImageFile> Upload(ImageKind kind, string name)
    {
        using var content = new MemoryStream([1, 2, 3, 4]);
        var result = await _db.Images.UploadAsync(kind, name, content, null, null, _ct);
        result.Succeeded.Should().BeTrue(result.Message);
        return result.Value!;
    }
}
