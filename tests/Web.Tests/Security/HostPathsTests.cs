using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>
/// A host path hands the VM a file with the dashboard's own rights (its database included), so only User.Manage may
/// add one; VM.Config and VM.Allocate work with library images and with the paths a VM already has.
/// </summary>
public sealed class HostPathsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_vm_admin_cannot_give_a_new_vm_a_host_file_but_may_boot_a_library_kernel()
    {
        using var vmAdmin = await ClientOfAsync("paths-vmadmin-create", BuiltInRoles.VmAdminId);
        string database = Path.Combine(factory.DataDirectory, "platform.db");

        var refused = await vmAdmin.PostAsJsonAsync("/api/v1/vms",
            new { name = "reads-the-database", kernelPath = "/boot/vmlinuz", disks = new[] { new { path = database } } }, ApiJson.Options, Ct);

        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await refused.Content.ReadAsStringAsync(Ct)).Should().Contain("User.Manage").And.Contain("platform.db");
        using var admin = factory.CreateClient();
        (await admin.GetStringAsync("/api/v1/vms", Ct)).Should().NotContain("reads-the-database");
        var audit = await admin.GetFromJsonAsync<AuditPageResponse>("/api/v1/audit?user=paths-vmadmin-create&action=VM.Create", ApiJson.Options, Ct);
        audit!.Items.Should().ContainSingle().Which.Result.Should().Be(AuditResult.Denied, "a refusal is recorded as one");

        var kernel = await UploadKernelAsync(admin, "paths-kernel.bin");
        var allowed = await vmAdmin.PostAsJsonAsync("/api/v1/vms", new { name = "boots-a-library-kernel", kernelImageId = kernel.Id }, ApiJson.Options, Ct);
        allowed.StatusCode.Should().Be(HttpStatusCode.Created, "library images need only Image.Use");
    }

    [Fact]
    public async Task An_edit_keeps_the_paths_an_administrator_chose_but_adds_none_and_makes_none_writable()
    {
        using var admin = factory.CreateClient();
        var vm = (await (await admin.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "paths-edited", kernelPath = "/boot/vmlinuz", disks = new[] { new { path = "/srv/shared.img", readOnly = true } },
        }, ApiJson.Options, Ct)).ReadAsync<VmResponse>())!;
        using var vmAdmin = await ClientOfAsync("paths-vmadmin-edit", BuiltInRoles.VmAdminId);

        (await PutAsync(vmAdmin, vm.Id, "/boot/vmlinuz", "/srv/shared.img", readOnly: true)).StatusCode
            .Should().Be(HttpStatusCode.OK, "the paths were there already; only the memory changes");
        (await PutAsync(vmAdmin, vm.Id, "/etc/shadow", "/srv/shared.img", readOnly: true)).StatusCode
            .Should().Be(HttpStatusCode.Forbidden, "a new kernel path reads a host file");
        (await PutAsync(vmAdmin, vm.Id, "/boot/vmlinuz", "/srv/shared.img", readOnly: false)).StatusCode
            .Should().Be(HttpStatusCode.Forbidden, "a read-only host disk made writable changes a host file");
        (await PutAsync(admin, vm.Id, "/boot/other-vmlinuz", "/srv/shared.img", readOnly: false)).StatusCode
            .Should().Be(HttpStatusCode.OK, "an administrator may");
    }

    [Fact]
    public async Task A_vm_admin_keeps_the_tap_devices_an_administrator_chose_but_adds_none()
    {
        using var admin = factory.CreateClient();
        var kernel = await UploadKernelAsync(admin, "taps-kernel.bin");
        using var vmAdmin = await ClientOfAsync("taps-vmadmin", BuiltInRoles.VmAdminId);

        var refused = await vmAdmin.PostAsJsonAsync("/api/v1/vms",
            new { name = "on-someone-elses-network", kernelImageId = kernel.Id, nics = new[] { new { tapName = "tap-finance" } } }, ApiJson.Options, Ct);
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden, "a TAP device puts the VM on whatever network it is bridged to");
        (await refused.Content.ReadAsStringAsync(Ct)).Should().Contain("TAP device tap-finance").And.Contain("User.Manage");

        var vm = (await (await admin.PostAsJsonAsync("/api/v1/vms",
            new { name = "taps-edited", kernelImageId = kernel.Id, nics = new[] { new { tapName = "tap-lab" } } }, ApiJson.Options, Ct)).ReadAsync<VmResponse>())!;
        (await PutNicsAsync(vmAdmin, vm.Id, kernel.Id, "tap-lab")).StatusCode.Should().Be(HttpStatusCode.OK, "the device was there already");
        (await PutNicsAsync(vmAdmin, vm.Id, kernel.Id, "tap-lab", "tap-finance")).StatusCode.Should().Be(HttpStatusCode.Forbidden, "a second NIC on another network");
        (await PutNicsAsync(vmAdmin, vm.Id, kernel.Id)).StatusCode.Should().Be(HttpStatusCode.OK, "taking a NIC away reaches nothing new");
        (await PutNicsAsync(admin, vm.Id, kernel.Id, "tap-finance")).StatusCode.Should().Be(HttpStatusCode.OK, "an administrator may");
    }

    private static async Task<HttpResponseMessage> PutNicsAsync(HttpClient client, Guid vmId, Guid kernelImageId, params string[] taps)
    {
        var current = await client.GetAsync($"/api/v1/vms/{vmId}", Ct);
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vmId}");
        put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        put.Content = JsonContent.Create(new
        {
            name = "taps-edited", kernelImageId, nics = taps.Select(tap => new { tapName = tap }).ToArray(),
        }, options: ApiJson.Options);
        return await client.SendAsync(put, Ct);
    }

    private async Task<HttpClient> ClientOfAsync(string name, Guid roleId)
    {
        string userId = await TestAccounts.CreateUserAsync(factory.Services, name, (roleId, null));
        return factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId));
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient client, Guid vmId, string kernelPath, string diskPath, bool readOnly)
    {
        var current = await client.GetAsync($"/api/v1/vms/{vmId}", Ct);
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vmId}");
        put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        put.Content = JsonContent.Create(new
        {
            name = "paths-edited", kernelPath, memoryMiB = 256 + Random.Shared.Next(256), disks = new[] { new { path = diskPath, readOnly } },
        }, options: ApiJson.Options);
        return await client.SendAsync(put, Ct);
    }

    private static async Task<ImageResponse> UploadKernelAsync(HttpClient admin, string fileName)
    {
        using var form = new MultipartFormDataContent { { new StringContent("kernel"), "kind" } };
        var file = new ByteArrayContent([1, 2, 3, 4]);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        form.Add(file, "file", fileName);
        var response = await admin.PostAsync("/api/v1/images", form, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (await response.ReadAsync<ImageResponse>())!;
    }
}
