using System.Net;
using System.Net.Http.Json;
using System.Text;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

// Quotas through the API: an administrator sets them, creating or growing past one is refused with the numbers,
// a group's quota counts its members together, and the list shows use against each maximum.
public sealed class QuotaEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A VMAdmin of their own (VM.Allocate, Image.Use) and a library kernel they may boot.</summary>
    private async Task<(string UserId, HttpClient Client, Guid Kernel)> VmAdminAsync(string name)
    {
        string userId = await TestAccounts.CreateUserAsync(factory.Services, name, (BuiltInRoles.VmAdminId, null));
        var client = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId));
        using var admin = factory.CreateClient();
        using var form = new MultipartFormDataContent { { new StringContent("kernel", Encoding.UTF8), "kind" } };
        form.Add(new ByteArrayContent([1, 2, 3, 4]), "file", $"{name}.kernel");
        var uploaded = await admin.PostAsync("/api/v1/images", form, Ct);
        uploaded.StatusCode.Should().Be(HttpStatusCode.Created);
        return (userId, client, (await uploaded.ReadAsync<ImageResponse>())!.Id);
    }

    private static Task<HttpResponseMessage> CreateVmAsync(HttpClient client, string name, Guid kernel, int memoryMiB, int vcpus = 1) =>
        client.PostAsJsonAsync("/api/v1/vms", new { name, kernelImageId = kernel, memoryMiB, vcpuCount = vcpus }, ApiJson.Options, Ct);

    private static async Task<string> DetailAsync(HttpResponseMessage response) =>
        (await response.ReadJsonAsync()).GetProperty("detail").GetString()!;

    [Fact]
    public async Task Creating_past_a_users_memory_quota_is_refused_with_the_numbers()
    {
        var (userId, client, kernel) = await VmAdminAsync("quota-memory");
        using var _ = client;
        using var admin = factory.CreateClient();
        (await admin.PutAsJsonAsync($"/api/v1/quotas/users/{userId}", new { maxMemoryMiB = 16 * 1024, maxVms = 5 }, ApiJson.Options, Ct))
            .StatusCode.Should().Be(HttpStatusCode.OK);

        (await CreateVmAsync(client, "q-big", kernel, 14 * 1024)).StatusCode.Should().Be(HttpStatusCode.Created);
        var refused = await CreateVmAsync(client, "q-more", kernel, 4 * 1024);
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await DetailAsync(refused)).Should().Be("Quota exceeded: you use 14 GiB of 16 GiB of memory; this VM needs 4 GiB.");
        (await CreateVmAsync(client, "q-fits", kernel, 2 * 1024)).StatusCode.Should().Be(HttpStatusCode.Created, "2 GiB still fits");

        var quotas = (await admin.GetFromJsonAsync<List<QuotaResponse>>("/api/v1/quotas", ApiJson.Options, Ct))!;
        var mine = quotas.Single(q => q.UserId == userId);
        mine.Holder.Should().Be("quota-memory");
        mine.UsedVms.Should().Be(2);
        mine.UsedMemoryMiB.Should().Be(16 * 1024);
        mine.MaxMemoryMiB.Should().Be(16 * 1024);
    }

    [Fact]
    public async Task A_clone_is_its_makers_and_one_past_their_quota_is_refused_before_anything_is_copied()
    {
        var (userId, client, kernel) = await VmAdminAsync("quota-clone");
        using var _ = client;
        using var admin = factory.CreateClient();
        (await admin.PutAsJsonAsync($"/api/v1/quotas/users/{userId}", new { maxVms = 1 }, ApiJson.Options, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        var created = await CreateVmAsync(client, "q-clone-source", kernel, 256);
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var source = (await created.ReadAsync<VmResponse>())!;

        var refused = await client.PostAsJsonAsync($"/api/v1/vms/{source.Id}/clone", new { name = "q-clone-1" }, ApiJson.Options, Ct);
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await DetailAsync(refused)).Should().StartWith("Quota exceeded: you use 1 of 1 VMs");

        await admin.PutAsJsonAsync($"/api/v1/quotas/users/{userId}", new { maxVms = 2 }, ApiJson.Options, Ct);
        (await client.PostAsJsonAsync($"/api/v1/vms/{source.Id}/clone", new { name = "q-clone-2" }, ApiJson.Options, Ct))
            .StatusCode.Should().Be(HttpStatusCode.Accepted);
        var counted = System.Diagnostics.Stopwatch.StartNew();
        while ((await admin.GetFromJsonAsync<List<QuotaResponse>>("/api/v1/quotas", ApiJson.Options, Ct))!.Single(q => q.UserId == userId).UsedVms < 2)
        {
            counted.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "the finished clone counts against its maker's quota");
            await Task.Delay(50, Ct);
        }
    }

    [Fact]
    public async Task Growing_a_vm_past_the_owners_vcpu_quota_is_refused_and_shrinking_is_not()
    {
        var (userId, client, kernel) = await VmAdminAsync("quota-grow");
        using var _ = client;
        using var admin = factory.CreateClient();
        await admin.PutAsJsonAsync($"/api/v1/quotas/users/{userId}", new { maxVcpus = 4 }, ApiJson.Options, Ct);
        var created = await CreateVmAsync(client, "q-grow", kernel, 256, vcpus: 3);
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var vm = (await created.ReadAsync<VmResponse>())!;

        async Task<HttpResponseMessage> PutAsync(int vcpus)
        {
            var fetched = await client.GetAsync($"/api/v1/vms/{vm.Id}", Ct);
            var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}")
            {
                Content = JsonContent.Create(new { name = "q-grow", kernelImageId = kernel, memoryMiB = 256, vcpuCount = vcpus }, options: ApiJson.Options),
            };
            put.Headers.IfMatch.Add(fetched.Headers.ETag!);
            return await client.SendAsync(put, Ct);
        }

        var grown = await PutAsync(6);
        grown.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await DetailAsync(grown)).Should().Be("Quota exceeded: you use 3 of 4 vCPUs; this change needs 3.");
        (await PutAsync(4)).StatusCode.Should().Be(HttpStatusCode.OK, "one more vCPU fits");
        (await PutAsync(2)).StatusCode.Should().Be(HttpStatusCode.OK, "shrinking needs no room");
    }

    [Fact]
    public async Task A_groups_quota_counts_its_members_together()
    {
        var (first, firstClient, kernel) = await VmAdminAsync("quota-g1");
        var (second, secondClient, _) = await VmAdminAsync("quota-g2");
        using var _1 = firstClient;
        using var _2 = secondClient;
        using var admin = factory.CreateClient();
        var group = (await (await admin.PostAsJsonAsync("/api/v1/groups", new CreateGroupRequest("quota-team", null), ApiJson.Options, Ct)).ReadAsync<GroupResponse>())!;
        foreach (string member in new[] { first, second })
        {
            (await admin.PutAsync($"/api/v1/groups/{group.Id}/members/{member}", null, Ct)).IsSuccessStatusCode.Should().BeTrue();
        }

        (await admin.PutAsJsonAsync($"/api/v1/quotas/groups/{group.Id}", new { maxVms = 2 }, ApiJson.Options, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await CreateVmAsync(firstClient, "q-team-1", kernel, 128)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await CreateVmAsync(secondClient, "q-team-2", kernel, 128)).StatusCode.Should().Be(HttpStatusCode.Created);
        var refused = await CreateVmAsync(firstClient, "q-team-3", kernel, 128);
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await DetailAsync(refused)).Should().Be("Quota exceeded: group quota-team uses 2 of 2 VMs; this VM needs 1 more.");

        (await admin.DeleteAsync($"/api/v1/quotas/groups/{group.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await CreateVmAsync(firstClient, "q-team-3", kernel, 128)).StatusCode.Should().Be(HttpStatusCode.Created, "without the quota nothing holds it back");
    }

    [Fact]
    public async Task Bad_quotas_are_refused_with_the_field_named()
    {
        using var admin = factory.CreateClient();
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "quota-bad");
        var bad = await admin.PutAsJsonAsync($"/api/v1/quotas/users/{userId}", new { maxVms = -1 }, ApiJson.Options, Ct);
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.Content.ReadAsStringAsync(Ct)).Should().Contain("maxVms");
        (await admin.PutAsJsonAsync("/api/v1/quotas/users/no-such-user", new { maxVms = 1 }, ApiJson.Options, Ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await admin.DeleteAsync($"/api/v1/quotas/users/{userId}", Ct)).StatusCode.Should().Be(HttpStatusCode.NotFound, "there was none");
    }

    [Fact]
    public async Task Uploading_past_the_image_library_quota_is_refused_and_nothing_is_stored()
    {
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "quota-images", (BuiltInRoles.AdministratorId, null));
        using var uploader = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId));
        using var admin = factory.CreateClient();
        (await admin.PutAsJsonAsync($"/api/v1/quotas/users/{userId}", new { maxImageBytes = 6144 }, ApiJson.Options, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);

        async Task<HttpResponseMessage> UploadAsync(string name, int bytes)
        {
            using var form = new MultipartFormDataContent { { new StringContent("kernel", Encoding.UTF8), "kind" } };
            form.Add(new ByteArrayContent(new byte[bytes]), "file", name);
            return await uploader.PostAsync("/api/v1/images", form, Ct);
        }

        (await UploadAsync("quota-first.kernel", 4096)).StatusCode.Should().Be(HttpStatusCode.Created);
        var refused = await UploadAsync("quota-second.kernel", 4096);
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await DetailAsync(refused)).Should().Be("Quota exceeded: you use 4 KiB of 6 KiB of the image library; this image needs 4 KiB.");
        (await admin.GetStringAsync("/api/v1/images", Ct)).Should().NotContain("quota-second.kernel");
        var quotas = (await admin.GetFromJsonAsync<List<QuotaResponse>>("/api/v1/quotas", ApiJson.Options, Ct))!;
        quotas.Single(q => q.UserId == userId).UsedImageBytes.Should().Be(4096);
    }
}
