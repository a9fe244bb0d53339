using System.Net;
using System.Net.Http.Json;
using Platform.Web.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

public sealed class ApiDocumentTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_openapi_document_describes_every_resource_group()
    {
        using var client = factory.CreateClient();
        var document = await (await client.GetAsync("/openapi/v1.json", _ct)).ReadJsonAsync();
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        paths.Should().Contain([
            "/api/v1/vms", "/api/v1/vms/{id}", "/api/v1/vms/{id}/start", "/api/v1/vms/{id}/shutdown", "/api/v1/vms/{id}/reset",
            "/api/v1/vms/{id}/events", "/api/v1/vms/{id}/nics/{index}/link", "/api/v1/images", "/api/v1/images/{id}", "/api/v1/events", "/api/v1/host",
        ]);
        document.GetProperty("info").GetProperty("description").GetString().Should().Contain("If-Match");
    }

    [Fact]
    public async Task The_vm_schemas_describe_the_input_devices_and_the_on_crash_policy()
    {
        using var client = factory.CreateClient();
        var schemas = (await (await client.GetAsync("/openapi/v1.json", _ct)).ReadJsonAsync()).GetProperty("components").GetProperty("schemas");
        foreach (string schema in new[] { "VmDefinitionInput", "VmResponse" })
        {
            schemas.GetProperty(schema).GetProperty("properties").EnumerateObject().Select(p => p.Name).Should().Contain(["input", "onCrash"]);
        }

        schemas.ToString().Should().Contain("\"Ps2\"", "the document lists the input kinds").And.Contain("\"Restart\"");
        schemas.GetProperty("VmPowerState").ToString().Should().Contain("Restarting");
    }

    [Fact]
    public async Task The_browsable_reference_is_served()
    {
        using var client = factory.CreateClient();
        var response = await client.GetAsync("/scalar/v1", _ct);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync(_ct)).Should().Contain("openapi/v1.json");
    }

    [Fact]
    public async Task Host_reports_the_hosts_resources_and_active_vms()
    {
        using var client = factory.CreateClient();
        var vm = (await (await client.PostAsJsonAsync("/api/v1/vms", new { name = "host-active", kernelPath = "/k" }, ApiJson.Options, _ct)).ReadAsync<VmResponse>())!;
        factory.Runtime.SetState(vm.Id, Platform.Web.Services.Runtime.VmPowerState.Paused);
        var host = (await client.GetFromJsonAsync<HostResponse>("/api/v1/host", ApiJson.Options, _ct))!;
        (host.CpuModel, host.CpuCount, host.TotalMemoryMiB).Should().Be(("Test CPU @ 3.00GHz", 8, 16384));
        host.ActiveVms.Should().Contain(new VmPowerResponse(vm.Id, Platform.Web.Services.Runtime.VmPowerState.Paused));
    }

    [Fact]
    public async Task The_event_log_pages_newest_first()
    {
        using var client = factory.CreateClient();
        for (int i = 0; i < 3; i++)
        {
            await client.PostAsJsonAsync("/api/v1/vms", new { name = $"events-{i}", kernelPath = "/k" }, ApiJson.Options, _ct);
        }

        var page = (await client.GetFromJsonAsync<VmEventPageResponse>("/api/v1/events?take=2", ApiJson.Options, _ct))!;
        page.Items.Should().HaveCount(2);
        page.Total.Should().BeGreaterThanOrEqualTo(3);
        page.Items[0].Id.Should().BeGreaterThan(page.Items[1].Id);
        page.Items[0].Message.Should().Contain("events-2");
    }
}
