using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Platform.Web.Endpoints;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

public sealed class VmEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private static object Definition(string name, int memory = 512) => new
    {
        name,
        vcpuCount = 2,
        memoryMiB = memory,
        bootMode = "Kernel",
        kernelPath = "/boot/vmlinuz",
        commandLine = "console=ttyS0",
        disks = new[] { new { path = "/var/lib/vm/root.img", readOnly = false, cache = "None" } },
        nics = new[] { new { tapName = "tap0" } },
        onReboot = "Exit",
    };

    [Fact]
    public async Task Create_get_list_update_delete_round_trip()
    {
        using var client = factory.CreateClient();

        var created = await client.PostAsJsonAsync("/api/v1/vms", Definition("crud-1"), ApiJson.Options, _ct);
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var vm = (await created.ReadAsync<VmResponse>())!;
        created.Headers.Location!.ToString().Should().Be($"/api/v1/vms/{vm.Id}");
        created.Headers.ETag!.Tag.Should().Be($"\"{vm.Version:N}\"");
        vm.Disks.Single().Cache.ToString().Should().Be("None");
        vm.Nics.Single().MacAddress.Should().StartWith("52:54:00:");
        vm.State.Should().Be(VmPowerState.Stopped);

        var fetched = await client.GetAsync($"/api/v1/vms/{vm.Id}", _ct);
        fetched.Headers.ETag!.Tag.Should().Be(created.Headers.ETag.Tag);
        (await client.GetFromJsonAsync<List<VmResponse>>("/api/v1/vms", ApiJson.Options, _ct))!.Should().Contain(v => v.Name == "crud-1");

        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}") { Content = JsonContent.Create(Definition("crud-1b", 1024), options: ApiJson.Options) };
        put.Headers.IfMatch.Add(fetched.Headers.ETag);
        var updated = await client.SendAsync(put, _ct);
        updated.StatusCode.Should().Be(HttpStatusCode.OK);
        var after = (await updated.ReadAsync<VmResponse>())!;
        (after.Name, after.MemoryMiB).Should().Be(("crud-1b", 1024));
        updated.Headers.ETag!.Tag.Should().NotBe(fetched.Headers.ETag.Tag);

        using var delete = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/vms/{vm.Id}");
        delete.Headers.IfMatch.Add(updated.Headers.ETag);
        (await client.SendAsync(delete, _ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var gone = await client.GetAsync($"/api/v1/vms/{vm.Id}", _ct);
        gone.StatusCode.Should().Be(HttpStatusCode.NotFound);
        gone.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task A_single_host_stores_no_host_and_refuses_another_one()
    {
        using var client = factory.CreateClient();
        var elsewhere = await client.PostAsJsonAsync("/api/v1/vms", new { name = "elsewhere", kernelPath = "/boot/vmlinuz", host = "no-such-host" }, ApiJson.Options, _ct);
        elsewhere.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var problem = await elsewhere.ReadJsonAsync();
        problem.GetProperty("errors").GetProperty("host")[0].GetString().Should().Contain("There is no host no-such-host: this is a single host");

        var here = await client.PostAsJsonAsync("/api/v1/vms", new { name = "here", kernelPath = "/boot/vmlinuz", host = Environment.MachineName }, ApiJson.Options, _ct);
        here.StatusCode.Should().Be(HttpStatusCode.Created, "this host's own name is this host");
        (await here.ReadJsonAsync()).GetProperty("host").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null, "a single host runs every VM: none is stored");
    }

    [Fact]
    public async Task Invalid_definitions_get_a_validation_problem_per_field()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "-bad name",
            vcpuCount = 32,
            memoryMiB = 8,
            kernelPath = "relative/vmlinuz",
            nics = new[] { new { tapName = "tap0", macAddress = "01:00:5e:00:00:01" } },
        }, ApiJson.Options, _ct);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        errors.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("name", "vcpuCount", "memoryMiB", "kernel", "nics[0].macAddress");
        errors.GetProperty("memoryMiB")[0].GetString().Should().Contain("at least 16 MiB");
    }

    [Fact]
    public async Task Input_devices_are_stored_with_a_display_and_refused_without_one()
    {
        using var client = factory.CreateClient();

        var defaulted = (await (await client.PostAsJsonAsync("/api/v1/vms", new { name = "input-default", kernelPath = "/k" }, ApiJson.Options, _ct))
            .ReadAsync<VmResponse>())!;
        defaulted.Input.Should().Be(InputKind.Virtio, "a display comes with the virtio tablet and keyboard unless asked otherwise");

        var ps2 = await client.PostAsJsonAsync("/api/v1/vms", new { name = "input-ps2", kernelPath = "/k", input = "ps2" }, ApiJson.Options, _ct);
        ps2.StatusCode.Should().Be(HttpStatusCode.Created);
        (await ps2.ReadJsonAsync()).GetProperty("input").GetString().Should().Be("Ps2");

        var headless = (await (await client.PostAsJsonAsync("/api/v1/vms", new { name = "input-none", kernelPath = "/k", displayEnabled = false }, ApiJson.Options, _ct))
            .ReadAsync<VmResponse>())!;
        headless.Input.Should().BeNull("without a display there are no input devices");

        var refused = await client.PostAsJsonAsync("/api/v1/vms", new { name = "input-bad", kernelPath = "/k", displayEnabled = false, input = "Virtio" }, ApiJson.Options, _ct);
        refused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var errors = (await refused.ReadJsonAsync()).GetProperty("errors");
        errors.EnumerateObject().Select(p => p.Name).Should().Equal("input");
        errors.GetProperty("input")[0].GetString().Should().Contain("come with the display");

        var unknown = await client.PostAsJsonAsync("/api/v1/vms", new { name = "input-bad", kernelPath = "/k", input = 7 }, ApiJson.Options, _ct);
        unknown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await unknown.ReadJsonAsync()).GetProperty("errors").GetProperty("input")[0].GetString().Should().Contain("virtio (tablet and keyboard) or ps2");
    }

    [Fact]
    public async Task The_on_crash_policy_defaults_to_stay_and_round_trips()
    {
        using var client = factory.CreateClient();
        var stays = (await (await client.PostAsJsonAsync("/api/v1/vms", new { name = "crash-default", kernelPath = "/k" }, ApiJson.Options, _ct)).ReadAsync<VmResponse>())!;
        stays.OnCrash.Should().Be(Platform.Web.Data.CrashPolicy.Stay);

        var restarts = await client.PostAsJsonAsync("/api/v1/vms", new { name = "crash-restart", kernelPath = "/k", onCrash = "restart" }, ApiJson.Options, _ct);
        restarts.StatusCode.Should().Be(HttpStatusCode.Created);
        (await restarts.ReadJsonAsync()).GetProperty("onCrash").GetString().Should().Be("Restart");

        var bad = await client.PostAsJsonAsync("/api/v1/vms", new { name = "crash-bad", kernelPath = "/k", onCrash = 9 }, ApiJson.Options, _ct);
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.ReadJsonAsync()).GetProperty("errors").EnumerateObject().Select(p => p.Name).Should().Equal("onCrash");
    }

    [Fact]
    public async Task Memory_beyond_the_hosts_is_refused()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/api/v1/vms", Definition("huge", (int)factory.Host.Snapshot.TotalMemoryMiB + 1), ApiJson.Options, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.ReadJsonAsync()).GetProperty("errors").GetProperty("memoryMiB")[0].GetString().Should().Contain("This host has");
    }

    [Fact]
    public async Task A_duplicate_name_in_other_case_is_a_validation_error()
    {
        using var client = factory.CreateClient();
        (await client.PostAsJsonAsync("/api/v1/vms", Definition("Dup-Name"), ApiJson.Options, _ct)).StatusCode.Should().Be(HttpStatusCode.Created);
        var second = await client.PostAsJsonAsync("/api/v1/vms", Definition("dup-name"), ApiJson.Options, _ct);
        second.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await second.ReadJsonAsync()).GetProperty("errors").GetProperty("name")[0].GetString().Should().Contain("already exists");
    }

    [Fact]
    public async Task Put_needs_if_match_and_a_stale_version_is_409()
    {
        using var client = factory.CreateClient();
        var created = await client.PostAsJsonAsync("/api/v1/vms", Definition("conc-1"), ApiJson.Options, _ct);
        var vm = (await created.ReadAsync<VmResponse>())!;
        var original = created.Headers.ETag!;

        using (var noIfMatch = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}") { Content = JsonContent.Create(Definition("conc-1", 600), options: ApiJson.Options) })
        {
            (await client.SendAsync(noIfMatch, _ct)).StatusCode.Should().Be(HttpStatusCode.PreconditionRequired);
        }

        using (var first = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}") { Content = JsonContent.Create(Definition("conc-1", 700), options: ApiJson.Options) })
        {
            first.Headers.IfMatch.Add(original);
            (await client.SendAsync(first, _ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var stale = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}") { Content = JsonContent.Create(Definition("conc-1", 800), options: ApiJson.Options) };
        stale.Headers.IfMatch.Add(original);
        var conflict = await client.SendAsync(stale, _ct);
        conflict.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await conflict.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("changed by someone else");
        (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.MemoryMiB.Should().Be(700);

        using var staleDelete = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/vms/{vm.Id}");
        staleDelete.Headers.IfMatch.Add(original);
        (await client.SendAsync(staleDelete, _ct)).StatusCode.Should().Be(HttpStatusCode.Conflict);

        using var garbage = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}") { Content = JsonContent.Create(Definition("conc-1"), options: ApiJson.Options) };
        garbage.Headers.TryAddWithoutValidation("If-Match", "\"not-a-version\"");
        (await client.SendAsync(garbage, _ct)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Unknown_ids_and_routes_and_bad_json_are_problem_details()
    {
        using var client = factory.CreateClient();
        var missing = await client.GetAsync($"/api/v1/vms/{Guid.NewGuid()}", _ct);
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await missing.ReadJsonAsync()).GetProperty("status").GetInt32().Should().Be(404);

        var noRoute = await client.GetAsync("/api/v1/nothing-here", _ct);
        noRoute.StatusCode.Should().Be(HttpStatusCode.NotFound);
        noRoute.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");

        using var badJson = new StringContent("{ not json", MediaTypeHeaderValue.Parse("application/json"));
        var bad = await client.PostAsync("/api/v1/vms", badJson, _ct);
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        bad.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task A_running_vm_cannot_be_deleted()
    {
        using var client = factory.CreateClient();
        var vm = (await (await client.PostAsJsonAsync("/api/v1/vms", Definition("busy-1"), ApiJson.Options, _ct)).ReadAsync<VmResponse>())!;
        factory.Runtime.SetState(vm.Id, VmPowerState.Running);
        var response = await client.DeleteAsync($"/api/v1/vms/{vm.Id}", _ct);
        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await response.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("stop it before deleting");
        (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.State.Should().Be(VmPowerState.Running);
    }
}
