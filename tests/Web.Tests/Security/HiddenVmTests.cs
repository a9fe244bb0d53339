using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>
/// A VM the caller may not see (here: an Auditor on <c>/</c> with NoAccess on that VM) is "no such VM" wherever the
/// API would name it or take its id: its own routes, the event log, the audit log and the image library's users.
/// </summary>
public sealed class HiddenVmTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_route_that_takes_the_vm_s_id_answers_404()
    {
        var (auditor, hidden) = await AuditorWithHiddenVmAsync("hidden-routes");

        foreach (string path in new[] { $"/api/v1/vms/{hidden.Id}", $"/api/v1/vms/{hidden.Id}/events", $"/api/v1/events?vmId={hidden.Id}", $"/api/v1/audit?vmId={hidden.Id}" })
        {
            (await auditor.GetAsync(path, Ct)).StatusCode.Should().Be(HttpStatusCode.NotFound, path);
        }

        (await auditor.PostAsync($"/api/v1/vms/{hidden.Id}/stop", null, Ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_audit_log_leaves_out_what_happened_to_it()
    {
        var (auditor, hidden) = await AuditorWithHiddenVmAsync("hidden-audit");
        using var admin = factory.CreateClient();
        (await admin.PostAsync($"/api/v1/vms/{hidden.Id}/start", null, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await admin.GetStringAsync($"/api/v1/audit?vmId={hidden.Id}", Ct)).Should().Contain("VM.Start", "the administrator sees it");

        string log = await auditor.GetStringAsync("/api/v1/audit?take=500", Ct);

        log.Should().NotContain(hidden.Id.ToString());
    }

    [Fact]
    public async Task The_image_library_counts_the_vm_among_an_image_s_users_without_naming_it()
    {
        var (auditor, hidden) = await AuditorWithHiddenVmAsync("hidden-images");
        using var admin = factory.CreateClient();
        var image = await UploadDiskAsync(admin, "hidden-images.img");
        var visible = (await (await admin.PostAsJsonAsync("/api/v1/vms",
            new { name = "seen-image-user", bootMode = "disk", disks = new[] { new { imageId = image.Id } } }, ApiJson.Options, Ct)).ReadAsync<VmResponse>())!;
        await UseImageAsync(admin, hidden, image.Id);
        (await admin.GetFromJsonAsync<ImageResponse>($"/api/v1/images/{image.Id}", ApiJson.Options, Ct))!.UsedBy
            .Should().BeEquivalentTo([hidden.Name, visible.Name]);

        var listed = (await auditor.GetFromJsonAsync<List<ImageResponse>>("/api/v1/images", ApiJson.Options, Ct))!.Single(i => i.Id == image.Id);
        var one = (await auditor.GetFromJsonAsync<ImageResponse>($"/api/v1/images/{image.Id}", ApiJson.Options, Ct))!;

        foreach (var answer in new[] { listed, one })
        {
            answer.UsedBy.Should().Equal(visible.Name);
            answer.UsedByOthers.Should().Be(1, "the hidden VM is counted, so the image shows as in use");
        }
    }

    [Fact]
    public async Task Deleting_an_image_it_uses_is_refused_without_naming_it()
    {
        using var admin = factory.CreateClient();
        var hidden = (await (await admin.PostAsJsonAsync("/api/v1/vms", new { name = "hidden-image-holder", kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct))
            .ReadAsync<VmResponse>())!;
        var image = await UploadDiskAsync(admin, "held-by-hidden.img");
        await UseImageAsync(admin, hidden, image.Id);
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "hidden-image-manager",
            (BuiltInRoles.AdministratorId, null), (BuiltInRoles.NoAccessId, hidden.Id));
        using var manager = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId));

        var refused = await manager.DeleteAsync($"/api/v1/images/{image.Id}", Ct);

        refused.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await refused.Content.ReadAsStringAsync(Ct)).Should().NotContain(hidden.Name).And.Contain("1 other VM");
    }

    /// <summary>A VM, and a client of a user who may audit everything but that VM.</summary>
    private async Task<(HttpClient Auditor, VmResponse Hidden)> AuditorWithHiddenVmAsync(string name)
    {
        using var admin = factory.CreateClient();
        var hidden = (await (await admin.PostAsJsonAsync("/api/v1/vms", new { name = $"{name}-vm", kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct))
            .ReadAsync<VmResponse>())!;
        string userId = await TestAccounts.CreateUserAsync(factory.Services, name, (BuiltInRoles.AuditorId, null), (BuiltInRoles.NoAccessId, hidden.Id));
        return (factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId)), hidden);
    }

    private static async Task<ImageResponse> UploadDiskAsync(HttpClient admin, string fileName)
    {
        using var form = new MultipartFormDataContent { { new StringContent("disk"), "kind" } };
        var file = new ByteArrayContent(new byte[512]);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        form.Add(file, "file", fileName);
        var response = await admin.PostAsync("/api/v1/images", form, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (await response.ReadAsync<ImageResponse>())!;
    }

    private static async Task UseImageAsync(HttpClient admin, VmResponse vm, Guid imageId)
    {
        var current = await admin.GetAsync($"/api/v1/vms/{vm.Id}", Ct);
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}");
        put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        put.Content = JsonContent.Create(new { name = vm.Name, bootMode = "disk", disks = new[] { new { imageId } } }, options: ApiJson.Options);
        (await admin.SendAsync(put, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
