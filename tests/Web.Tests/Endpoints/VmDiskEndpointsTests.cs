using System.Net;
using System.Net.Http.Json;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

/// <summary>
/// <c>/api/v1/vms/{id}/disks</c> over real HTTP on the real app: blank disks made in the data folder and checked with
/// qemu-img, grown, detached, changed and reordered, with every bad input and forbidden caller refused.
/// </summary>
public sealed class VmDiskEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private const long MiB = 1L << 20;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private async Task<VmResponse> CreateVmAsync(HttpClient client, string name)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz" }, ApiJson.Options, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (await response.ReadAsync<VmResponse>())!;
    }

    private async Task<HttpResponseMessage> AddAsync(HttpClient client, Guid vm, object body) =>
        await client.PostAsJsonAsync($"/api/v1/vms/{vm}/disks", body, ApiJson.Options, _ct);

    [Fact]
    public async Task A_blank_qcow2_disk_is_made_in_the_data_folder_as_qemu_img_sees_it_and_deleted_with_the_vm()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "blank-qcow2");

        var response = await AddAsync(client, vm.Id, new { sizeBytes = 64 * MiB, format = "qcow2" });

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(_ct));
        var disk = (await response.ReadAsync<VmResponse>())!.Disks.Single();
        (disk.Own, disk.Format, disk.VirtualSizeBytes).Should().Be((true, ImageFormat.Qcow2, 64 * MiB));
        disk.FilePath.Should().StartWith(Path.Combine(factory.DataDirectory, "disks", vm.Id.ToString("N")) + "/", "administrators see the file");
        var info = QemuTools.Info(disk.FilePath!);
        (info.Format, info.VirtualSize).Should().Be(("qcow2", 64 * MiB));
        disk.AllocatedBytes.Should().Be(info.ActualSize, "allocated bytes are qemu-img's actual size");
        disk.AllocatedBytes.Should().BeLessThan(2 * MiB, "a sparse qcow2 disk takes only its metadata");
        QemuTools.CheckClean(disk.FilePath!);

        var fetched = (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks.Single();
        (fetched.Own, fetched.VirtualSizeBytes, fetched.FilePath).Should().Be((true, 64 * MiB, disk.FilePath));

        (await client.DeleteAsync($"/api/v1/vms/{vm.Id}", _ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        File.Exists(disk.FilePath).Should().BeFalse("a VM's own disk goes with it");
    }

    [Fact]
    public async Task A_raw_disk_preallocated_in_full_takes_its_whole_size_and_can_be_kept_when_the_vm_goes()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "blank-raw");

        var disk = (await (await AddAsync(client, vm.Id, new { sizeBytes = 8 * MiB, format = "raw", preallocation = "full" })).ReadAsync<VmResponse>())!.Disks.Single();

        var info = QemuTools.Info(disk.FilePath!);
        (info.Format, info.VirtualSize).Should().Be(("raw", 8 * MiB));
        info.ActualSize.Should().BeGreaterThanOrEqualTo(8 * MiB, "full preallocation writes every byte");
        (await client.DeleteAsync($"/api/v1/vms/{vm.Id}?keepOwnDisks=true", _ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        File.Exists(disk.FilePath).Should().BeTrue("kept on request");
    }

    [Fact]
    public async Task A_blank_disk_can_come_with_the_definition_itself()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "blank-in-definition", bootMode = "Disk",
            disks = new object[] { new { blank = new { sizeBytes = 16 * MiB } } },
        }, ApiJson.Options, _ct);

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(_ct));
        var vm = (await response.ReadAsync<VmResponse>())!;
        var disk = (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks.Single();
        (disk.Own, disk.Format, disk.VirtualSizeBytes).Should().Be((true, ImageFormat.Qcow2, 16 * MiB), "qcow2 is the default");

        // A PUT of what GET gave keeps the disk by its id, file and all.
        var current = await client.GetAsync($"/api/v1/vms/{vm.Id}", _ct);
        var body = await current.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>(ApiJson.Options, _ct);
        body!["description"] = "kept";
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}") { Content = JsonContent.Create(body, options: ApiJson.Options) };
        put.Headers.IfMatch.Add(current.Headers.ETag!);
        var saved = await client.SendAsync(put, _ct);
        saved.StatusCode.Should().Be(HttpStatusCode.OK, await saved.Content.ReadAsStringAsync(_ct));
        (await saved.ReadAsync<VmResponse>())!.Disks.Single().Should().Match<VmDiskResponse>(d => d.Id == disk.Id && d.Own);
        (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks.Single().FilePath.Should().Be(disk.FilePath);
        File.Exists(disk.FilePath).Should().BeTrue();
    }

    [Fact]
    public async Task Bad_sizes_and_formats_are_refused_with_the_reason_and_nothing_is_written()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "blank-bad");

        async Task<string> RefusedAsync(object body)
        {
            var response = await AddAsync(client, vm.Id, body);
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            var errors = (await response.ReadJsonAsync()).GetProperty("errors");
            return string.Join(" ", errors.EnumerateObject().SelectMany(p => p.Value.EnumerateArray().Select(m => $"{p.Name}: {m.GetString()}")));
        }

        (await RefusedAsync(new { sizeBytes = 64 * MiB + 512 })).Should().Contain("sizeBytes: ").And.Contain("whole number of MiB");
        (await RefusedAsync(new { sizeBytes = 0 })).Should().Contain("at least 1 MiB");
        (await RefusedAsync(new { sizeBytes = 65L << 40 })).Should().Contain("at most 64 TiB");
        long free = new DriveInfo(factory.DataDirectory).AvailableFreeSpace;
        (await RefusedAsync(new { sizeBytes = (free / MiB + 1024) * MiB })).Should().Contain("free").And.Contain("does not fit");
        (await RefusedAsync(new { sizeBytes = 8 * MiB, format = "raw", preallocation = "metadata" })).Should().Contain("raw disk has no metadata");
        (await RefusedAsync(new { sizeBytes = 8 * MiB, path = "/var/lib/x.img" })).Should().Contain("disk: Choose one of");

        Directory.Exists(Path.Combine(factory.DataDirectory, "disks", vm.Id.ToString("N"))).Should().BeFalse("nothing was written");
        (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks.Should().BeEmpty();
    }

    [Fact]
    public async Task Disks_are_attached_and_detached_only_while_the_vm_is_stopped()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "blank-running");
        factory.Runtime.SetState(vm.Id, VmPowerState.Running);

        var refused = await AddAsync(client, vm.Id, new { sizeBytes = 8 * MiB });

        refused.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await refused.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("is running; stop it to attach a disk");
        factory.Runtime.SetState(vm.Id, VmPowerState.Stopped);
        var disk = (await (await AddAsync(client, vm.Id, new { sizeBytes = 8 * MiB })).ReadAsync<VmResponse>())!.Disks.Single();
        factory.Runtime.SetState(vm.Id, VmPowerState.Running);
        (await client.DeleteAsync($"/api/v1/vms/{vm.Id}/disks/0", _ct)).StatusCode.Should().Be(HttpStatusCode.Conflict);
        factory.Runtime.SetState(vm.Id, VmPowerState.Stopped);

        var detached = await client.DeleteAsync($"/api/v1/vms/{vm.Id}/disks/0", _ct);

        detached.StatusCode.Should().Be(HttpStatusCode.OK);
        (await detached.ReadAsync<VmResponse>())!.Disks.Should().BeEmpty();
        File.Exists(disk.FilePath).Should().BeFalse("a detached disk of the VM's own is deleted");
        (await client.DeleteAsync($"/api/v1/vms/{vm.Id}/disks/0", _ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_detach_with_keep_file_leaves_the_file_which_the_vms_deletion_keeps_too()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "detach-keep");
        var disk = (await (await AddAsync(client, vm.Id, new { sizeBytes = 8 * MiB })).ReadAsync<VmResponse>())!.Disks.Single();
        QemuTools.WritePattern(disk.FilePath!, 0, 0x3c);

        var detached = await client.DeleteAsync($"/api/v1/vms/{vm.Id}/disks/0?keepFile=true", _ct);

        detached.StatusCode.Should().Be(HttpStatusCode.OK);
        (await detached.ReadAsync<VmResponse>())!.Disks.Should().BeEmpty();
        QemuTools.Holds(disk.FilePath!, 0, 0x3c).Should().BeTrue("the file was kept as it was");
        QemuTools.CheckClean(disk.FilePath!);
        (await client.DeleteAsync($"/api/v1/vms/{vm.Id}", _ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        File.Exists(disk.FilePath).Should().BeTrue("a kept file is no disk of the VM's any more, so its deletion leaves it");
    }

    [Fact]
    public async Task A_stopped_vms_own_disk_grows_and_never_shrinks()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "grow");
        var disk = (await (await AddAsync(client, vm.Id, new { sizeBytes = 32 * MiB })).ReadAsync<VmResponse>())!.Disks.Single();

        var grown = await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/0/resize", new { sizeBytes = 96 * MiB }, ApiJson.Options, _ct);

        grown.StatusCode.Should().Be(HttpStatusCode.OK, await grown.Content.ReadAsStringAsync(_ct));
        (await grown.ReadAsync<VmDiskResponse>())!.VirtualSizeBytes.Should().Be(96 * MiB);
        QemuTools.Info(disk.FilePath!).VirtualSize.Should().Be(96 * MiB);
        QemuTools.CheckClean(disk.FilePath!);

        var shrink = await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/0/resize", new { sizeBytes = 64 * MiB }, ApiJson.Options, _ct);
        shrink.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await shrink.ReadJsonAsync()).GetProperty("errors").GetProperty("sizeBytes")[0].GetString().Should().Contain("shrinking it would cut off");
        QemuTools.Info(disk.FilePath!).VirtualSize.Should().Be(96 * MiB, "a refused shrink changes nothing");

        var odd = await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/0/resize", new { sizeBytes = 100 * MiB + 1 }, ApiJson.Options, _ct);
        odd.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/5/resize", new { sizeBytes = 100 * MiB }, ApiJson.Options, _ct))
            .StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_host_file_disk_is_not_grown_by_the_dashboard()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "grow-host");
        (await AddAsync(client, vm.Id, new { path = "/var/lib/vm/root.img" })).StatusCode.Should().Be(HttpStatusCode.Created);

        var refused = await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/0/resize", new { sizeBytes = 96 * MiB }, ApiJson.Options, _ct);

        refused.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await refused.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("host file /var/lib/vm/root.img");
    }

    [Fact]
    public async Task Cache_mode_read_only_and_order_change_and_each_disk_keeps_its_file()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "reorder");
        var own = (await (await AddAsync(client, vm.Id, new { sizeBytes = 8 * MiB })).ReadAsync<VmResponse>())!.Disks.Single();
        (await AddAsync(client, vm.Id, new { path = "/var/lib/vm/boot.img" })).StatusCode.Should().Be(HttpStatusCode.Created);

        var patched = await client.PatchAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/1", new { cache = "None", readOnly = true }, ApiJson.Options, _ct);
        patched.StatusCode.Should().Be(HttpStatusCode.OK, await patched.Content.ReadAsStringAsync(_ct));
        var second = (await patched.ReadAsync<VmResponse>())!.Disks[1];
        (second.Cache, second.ReadOnly).Should().Be((DiskCacheMode.None, true));

        var reordered = await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/order", new { order = new[] { 1, 0 } }, ApiJson.Options, _ct);

        reordered.StatusCode.Should().Be(HttpStatusCode.OK, await reordered.Content.ReadAsStringAsync(_ct));
        var disks = (await reordered.ReadAsync<VmResponse>())!.Disks;
        (disks[0].Path, disks[0].ReadOnly, disks[0].Cache).Should().Be(("/var/lib/vm/boot.img", true, DiskCacheMode.None), "the boot disk now comes first with its settings");
        (disks[1].Id, disks[1].Own, disks[1].FilePath).Should().Be((own.Id, true, own.FilePath), "the own disk moved with its file");
        File.Exists(own.FilePath).Should().BeTrue();

        var bad = await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/order", new { order = new[] { 0, 0 } }, ApiJson.Options, _ct);
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.ReadJsonAsync()).GetProperty("errors").GetProperty("order")[0].GetString().Should().Contain("once");
    }

    [Fact]
    public async Task A_disks_bus_is_chosen_at_attach_shown_by_GET_changed_by_PATCH_and_bounded_by_the_AHCI_ports()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "sata-bus");

        var added = await AddAsync(client, vm.Id, new { path = "/var/lib/vm/win.img", bus = "Sata" });

        added.StatusCode.Should().Be(HttpStatusCode.Created, await added.Content.ReadAsStringAsync(_ct));
        (await added.ReadAsync<VmResponse>())!.Disks.Single().Bus.Should().Be(DiskBus.Sata);
        using (var json = await client.GetAsync($"/api/v1/vms/{vm.Id}", _ct))
        {
            (await json.ReadJsonAsync()).GetProperty("disks")[0].GetProperty("bus").GetString().Should().Be("Sata", "GET names the bus");
        }

        var patched = await client.PatchAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/0", new { bus = "Virtio" }, ApiJson.Options, _ct);
        patched.StatusCode.Should().Be(HttpStatusCode.OK, await patched.Content.ReadAsStringAsync(_ct));
        var disk = (await patched.ReadAsync<VmResponse>())!.Disks.Single();
        (disk.Bus, disk.Path).Should().Be((DiskBus.Virtio, "/var/lib/vm/win.img"), "only the bus changed");
        (await client.PatchAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/0", new { bus = "Sata" }, ApiJson.Options, _ct)).StatusCode.Should().Be(HttpStatusCode.OK);

        for (int i = 1; i < VmConfigLimits.AhciPorts; i++)
        {
            (await AddAsync(client, vm.Id, new { path = $"/var/lib/vm/sata{i}.img", bus = "Sata" })).StatusCode.Should().Be(HttpStatusCode.Created);
        }

        var seventh = await AddAsync(client, vm.Id, new { path = "/var/lib/vm/sata6.img", bus = "Sata" });

        seventh.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await seventh.Content.ReadAsStringAsync(_ct)).Should().Contain("at most 6 SATA disks");

        var after = (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks;
        after.Should().HaveCount(6).And.OnlyContain(d => d.Bus == DiskBus.Sata);
    }

    [Fact]
    public async Task Only_administrators_see_disk_files_and_forbidden_callers_change_nothing()
    {
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, "disk-access");
        var own = (await (await AddAsync(admin, vm.Id, new { sizeBytes = 8 * MiB })).ReadAsync<VmResponse>())!.Disks.Single();
        string vmAdminId = await TestAccounts.CreateUserAsync(factory.Services, "disk-vmadmin", (BuiltInRoles.VmAdminId, null));
        string vmUserId = await TestAccounts.CreateUserAsync(factory.Services, "disk-vmuser", (BuiltInRoles.VmUserId, null));
        using var vmAdmin = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, vmAdminId));
        using var vmUser = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, vmUserId));

        var seen = (await vmAdmin.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks.Single();
        (seen.VirtualSizeBytes, seen.FilePath).Should().Be((8 * MiB, null), "the format and sizes are everyone's, the host's folders the administrators'");

        (await AddAsync(vmUser, vm.Id, new { sizeBytes = 8 * MiB })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await vmUser.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/0/resize", new { sizeBytes = 16 * MiB }, ApiJson.Options, _ct))
            .StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await vmUser.DeleteAsync($"/api/v1/vms/{vm.Id}/disks/0", _ct)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var hostPath = await AddAsync(vmAdmin, vm.Id, new { path = "/etc/shadow" });
        hostPath.StatusCode.Should().Be(HttpStatusCode.Forbidden, "a host path needs User.Manage");
        (await hostPath.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("/etc/shadow");

        QemuTools.Info(own.FilePath!).VirtualSize.Should().Be(8 * MiB);
        (await admin.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks.Should().ContainSingle();
        var blank = await AddAsync(vmAdmin, vm.Id, new { sizeBytes = 8 * MiB });
        blank.StatusCode.Should().Be(HttpStatusCode.Created, "a blank disk needs only VM.Config");
    }
}
