using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

/// <summary>
/// <c>GET /api/v1/vms/{id}</c> lists the cloud-init seed as the last disk (raw, read-only, its size, its path for
/// administrators); a PUT of what GET gave leaves it out of the definition; the disk endpoints refuse to change it.
/// </summary>
public sealed class VmSeedDiskEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private async Task<VmResponse> CreateVmAsync(HttpClient client, string name)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name, bootMode = "Disk", disks = new object[] { new { blank = new { sizeBytes = 16L << 20 } } },
            nics = new object[] { new { networkId = Network.DefaultId } },
            cloudInit = new { userName = "alice", password = "pw-alice" },
        }, ApiJson.Options, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(_ct));
        return (await response.ReadAsync<VmResponse>())!;
    }

    /// <summary>Writes the seed as a start would.</summary>
    private async Task<string> WriteSeedAsync(Guid id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var vm = (await scope.ServiceProvider.GetRequiredService<VmService>().FindAsync(id, _ct))!;
        return scope.ServiceProvider.GetRequiredService<CloudInitService>().EnsureSeed(vm)!;
    }

    [Fact]
    public async Task The_seed_is_the_last_disk_raw_read_only_with_its_size_and_path_for_administrators()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "seed-api");

        var unwritten = (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks;
        unwritten.Should().HaveCount(2);
        unwritten[1].Should().Match<VmDiskResponse>(d => d.CloudInitSeed && d.Position == 1 && d.VirtualSizeBytes == null && d.Problem == "Written at the VM's next start.");

        string seed = await WriteSeedAsync(vm.Id);
        var disks = (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks;

        disks.Select(d => d.CloudInitSeed).Should().Equal(false, true);
        var entry = disks[1];
        (entry.Position, entry.ReadOnly, entry.Format, entry.ImageFileName, entry.Own, entry.FilePath, entry.Problem)
            .Should().Be((1, true, ImageFormat.Raw, "cloud-init seed (cidata)", false, seed, null));
        entry.VirtualSizeBytes.Should().Be(new FileInfo(seed).Length).And.BeGreaterThan(0);
        entry.AllocatedBytes.Should().BeGreaterThan(0);

        string userId = await TestAccounts.CreateUserAsync(factory.Services, "seed-vmadmin", (BuiltInRoles.VmAdminId, null));
        using var vmAdmin = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId));
        var seen = (await vmAdmin.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks[1];
        (seen.CloudInitSeed, seen.VirtualSizeBytes, seen.FilePath).Should().Be((true, entry.VirtualSizeBytes, null), "the path names the host's folders");

        (await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init", new { userName = "bob", password = "pw-bob" }, ApiJson.Options, _ct))
            .StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks[1].Problem
            .Should().Contain("written again, with a new instance id, at the VM's next start");

        (await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init", new { enabled = false, userName = "bob" }, ApiJson.Options, _ct))
            .StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Disks.Should().ContainSingle("cloud-init is off: no seed disk");
    }

    [Fact]
    public async Task A_put_of_what_get_gave_leaves_the_seed_out_and_the_disk_endpoints_refuse_it()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "seed-put");
        await WriteSeedAsync(vm.Id);

        var current = await client.GetAsync($"/api/v1/vms/{vm.Id}", _ct);
        var body = await current.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>(ApiJson.Options, _ct);
        body!["disks"]!.AsArray().Should().HaveCount(2);
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}") { Content = JsonContent.Create(body, options: ApiJson.Options) };
        put.Headers.IfMatch.Add(current.Headers.ETag!);
        var saved = await client.SendAsync(put, _ct);

        saved.StatusCode.Should().Be(HttpStatusCode.OK, await saved.Content.ReadAsStringAsync(_ct));
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<VmService>().FindAsync(vm.Id, _ct))!.Disks.Should().ContainSingle("the seed is not stored as a disk");
        }

        var detach = await client.DeleteAsync($"/api/v1/vms/{vm.Id}/disks/1", _ct);
        detach.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await detach.ReadJsonAsync()).GetProperty("detail").GetString().Should().StartWith("Disk 1 is the cloud-init seed");
        var resize = await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/1/resize", new { sizeBytes = 64L << 20 }, ApiJson.Options, _ct);
        resize.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await client.DeleteAsync($"/api/v1/vms/{vm.Id}/disks/2", _ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
