using System.Net;
using System.Net.Http.Json;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

/// <summary>
/// <c>/api/v1/vms/{id}/snapshots</c> over real HTTP: snapshots of every qcow2 disk the VM owns, seen by
/// <c>qemu-img snapshot -l</c>, data put back by a revert as qemu-io reads it, and the refusals (running VM, duplicate
/// or bad name, no VM.Snapshot).
/// </summary>
public sealed class VmSnapshotEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private const long MiB = 1L << 20;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    /// <summary>A VM with two blank qcow2 disks and a raw one; the qcow2 disks' files.</summary>
    private async Task<(VmResponse Vm, string[] Files)> CreateVmAsync(HttpClient client, string name)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name, kernelPath = "/boot/vmlinuz",
            disks = new object[]
            {
                new { blank = new { sizeBytes = 16 * MiB } },
                new { blank = new { sizeBytes = 8 * MiB, format = "raw" } },
                new { blank = new { sizeBytes = 8 * MiB } },
            },
        }, ApiJson.Options, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(_ct));
        var vm = (await response.ReadAsync<VmResponse>())!;
        var disks = (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks;
        return (vm, [disks[0].FilePath!, disks[2].FilePath!]);
    }

    private Task<HttpResponseMessage> TakeAsync(HttpClient client, Guid vm, string name) =>
        client.PostAsJsonAsync($"/api/v1/vms/{vm}/snapshots", new { name }, ApiJson.Options, _ct);

    [Fact]
    public async Task Take_list_revert_and_delete_across_the_vms_qcow2_disks()
    {
        using var client = factory.CreateClient();
        var (vm, files) = await CreateVmAsync(client, "snap-cycle");
        QemuTools.WritePattern(files[0], 0, 0x11);

        var taken = await TakeAsync(client, vm.Id, "before-upgrade");

        taken.StatusCode.Should().Be(HttpStatusCode.Created, await taken.Content.ReadAsStringAsync(_ct));
        var snapshot = (await taken.ReadAsync<VmSnapshotResponse>())!;
        (snapshot.Name, snapshot.CreatedBy, snapshot.Disks, snapshot.VirtualSizeBytes).Should().Be(("before-upgrade", TestAccounts.AdminName, 2, 24 * MiB));
        snapshot.CreatedAt.Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        foreach (string file in files)
        {
            QemuTools.SnapshotNames(file).Should().Equal(["before-upgrade"], "qemu-img lists our snapshot");
            QemuTools.CheckClean(file);
        }

        var listed = (await client.GetFromJsonAsync<List<VmSnapshotResponse>>($"/api/v1/vms/{vm.Id}/snapshots", ApiJson.Options, _ct))!;
        listed.Should().ContainSingle().Which.Should().BeEquivalentTo(snapshot);

        // The guest writes on; the revert puts the disk back as it was.
        QemuTools.WritePattern(files[0], 0, 0x22);
        QemuTools.Holds(files[0], 0, 0x22).Should().BeTrue();
        (await client.PostAsync($"/api/v1/vms/{vm.Id}/snapshots/before-upgrade/revert", null, _ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        QemuTools.Holds(files[0], 0, 0x11).Should().BeTrue("the revert brought back what the disk held at the snapshot");
        QemuTools.CheckClean(files[0]);

        (await client.DeleteAsync($"/api/v1/vms/{vm.Id}/snapshots/before-upgrade", _ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        foreach (string file in files)
        {
            QemuTools.SnapshotNames(file).Should().BeEmpty();
            QemuTools.CheckClean(file);
        }

        QemuTools.Holds(files[0], 0, 0x11).Should().BeTrue("deleting a snapshot leaves the disk as it is");
        (await client.GetFromJsonAsync<List<VmSnapshotResponse>>($"/api/v1/vms/{vm.Id}/snapshots", ApiJson.Options, _ct))!.Should().BeEmpty();
        (await client.DeleteAsync($"/api/v1/vms/{vm.Id}/snapshots/before-upgrade", _ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_name_used_already_or_not_a_name_is_refused()
    {
        using var client = factory.CreateClient();
        var (vm, files) = await CreateVmAsync(client, "snap-names");
        (await TakeAsync(client, vm.Id, "one")).StatusCode.Should().Be(HttpStatusCode.Created);

        var duplicate = await TakeAsync(client, vm.Id, "one");
        duplicate.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await duplicate.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("already has a snapshot named one");

        foreach (string bad in new[] { "", "has space", "123", new string('a', 65), "x/y" })
        {
            var refused = await TakeAsync(client, vm.Id, bad);
            refused.StatusCode.Should().Be(HttpStatusCode.BadRequest, $"\"{bad}\" is not a snapshot name");
            (await refused.ReadJsonAsync()).GetProperty("errors").GetProperty("name")[0].GetString().Should().NotBeNullOrEmpty();
        }

        QemuTools.SnapshotNames(files[0]).Should().Equal(["one"], "nothing else was taken");
    }

    [Fact]
    public async Task Nothing_is_taken_reverted_or_deleted_while_the_vm_runs()
    {
        using var client = factory.CreateClient();
        var (vm, files) = await CreateVmAsync(client, "snap-running");
        (await TakeAsync(client, vm.Id, "stopped")).StatusCode.Should().Be(HttpStatusCode.Created);
        factory.Runtime.SetState(vm.Id, VmPowerState.Running);

        foreach (var response in new[]
        {
            await TakeAsync(client, vm.Id, "running"),
            await client.PostAsync($"/api/v1/vms/{vm.Id}/snapshots/stopped/revert", null, _ct),
            await client.DeleteAsync($"/api/v1/vms/{vm.Id}/snapshots/stopped", _ct),
        })
        {
            response.StatusCode.Should().Be(HttpStatusCode.Conflict);
            (await response.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("is running; snapshots are taken, reverted and deleted while it is stopped");
        }

        factory.Runtime.SetState(vm.Id, VmPowerState.Stopped);
        QemuTools.SnapshotNames(files[0]).Should().Equal(["stopped"]);
    }

    [Fact]
    public async Task A_vm_without_a_qcow2_disk_of_its_own_has_nothing_to_snapshot()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "snap-raw", kernelPath = "/boot/vmlinuz", disks = new object[] { new { blank = new { sizeBytes = 8 * MiB, format = "raw" } } },
        }, ApiJson.Options, _ct);
        var vm = (await response.ReadAsync<VmResponse>())!;

        var refused = await TakeAsync(client, vm.Id, "none");

        refused.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await refused.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("no qcow2 disk of its own");
    }

    [Fact]
    public async Task Snapshots_need_VM_Snapshot_and_are_audited()
    {
        using var admin = factory.CreateClient();
        var (vm, files) = await CreateVmAsync(admin, "snap-access");
        (await TakeAsync(admin, vm.Id, "base")).StatusCode.Should().Be(HttpStatusCode.Created);
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "snap-vmuser", (BuiltInRoles.VmUserId, null));
        string adminId = await TestAccounts.CreateUserAsync(factory.Services, "snap-vmadmin", (BuiltInRoles.VmAdminId, null));
        using var vmUser = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId));
        using var vmAdmin = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, adminId));

        (await vmUser.GetAsync($"/api/v1/vms/{vm.Id}/snapshots", _ct)).StatusCode.Should().Be(HttpStatusCode.OK, "VM.Audit sees them");
        (await TakeAsync(vmUser, vm.Id, "mine")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await vmUser.PostAsync($"/api/v1/vms/{vm.Id}/snapshots/base/revert", null, _ct)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await vmUser.DeleteAsync($"/api/v1/vms/{vm.Id}/snapshots/base", _ct)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        QemuTools.SnapshotNames(files[0]).Should().Equal(["base"], "a refused call changes nothing");

        (await TakeAsync(vmAdmin, vm.Id, "by-vmadmin")).StatusCode.Should().Be(HttpStatusCode.Created, "VMAdmin has VM.Snapshot");

        var audit = (await admin.GetFromJsonAsync<AuditPageResponse>($"/api/v1/audit?vmId={vm.Id}&action=VM.Snapshot&take=50", ApiJson.Options, _ct))!;
        audit.Items.Should().Contain(e => e.Action == AuditActions.SnapshotCreate && e.UserName!.StartsWith("snap-vmuser") && e.Result == Platform.Web.Data.AuditResult.Denied);
        audit.Items.Should().Contain(e => e.Action == AuditActions.SnapshotCreate && e.UserName!.StartsWith("snap-vmadmin") && e.Result == Platform.Web.Data.AuditResult.Succeeded);
        audit.Items.Should().Contain(e => e.Action == AuditActions.SnapshotDelete && e.Result == Platform.Web.Data.AuditResult.Denied);
    }
}
