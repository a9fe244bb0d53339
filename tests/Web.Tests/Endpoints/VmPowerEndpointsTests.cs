using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Fakes;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

public sealed class VmPowerEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private async Task<VmResponse> CreateAsync(HttpClient client, string name)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz" }, ApiJson.Options, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (await response.ReadAsync<VmResponse>())!;
    }

    [Theory]
    [InlineData("start", VmPowerState.Running)]
    [InlineData("shutdown", VmPowerState.Stopped)]
    [InlineData("stop", VmPowerState.Stopped)]
    [InlineData("pause", VmPowerState.Paused)]
    [InlineData("resume", VmPowerState.Running)]
    [InlineData("reset", VmPowerState.Running)]
    public async Task Each_action_is_passed_to_the_runtime_and_answers_the_new_state(string action, VmPowerState state)
    {
        using var client = factory.CreateClient();
        var vm = await CreateAsync(client, $"power-{action}");

        var response = await client.PostAsync($"/api/v1/vms/{vm.Id}/{action}", null, _ct);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.ReadAsync<VmPowerResponse>())!.State.Should().Be(state);
        factory.Runtime.Calls.Should().Contain((action, vm.Id));
        var events = await client.GetFromJsonAsync<VmEventPageResponse>($"/api/v1/vms/{vm.Id}/events", ApiJson.Options, _ct);
        events!.Items[0].Kind.Should().BeEquivalentTo(action);
    }

    [Fact]
    public async Task Shutdown_passes_its_timeout_and_refuses_a_silly_one()
    {
        using var client = factory.CreateClient();
        var vm = await CreateAsync(client, "power-timeout");
        (await client.PostAsync($"/api/v1/vms/{vm.Id}/shutdown?timeoutSeconds=7", null, _ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        factory.Runtime.LastShutdownTimeout.Should().Be(TimeSpan.FromSeconds(7));
        var silly = await client.PostAsync($"/api/v1/vms/{vm.Id}/shutdown?timeoutSeconds=0", null, _ct);
        silly.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await silly.ReadJsonAsync()).GetProperty("errors").TryGetProperty("timeoutSeconds", out _).Should().BeTrue();
    }

    [Fact]
    public async Task A_refusal_from_the_runtime_is_409_with_its_reason()
    {
        using var client = factory.CreateClient();
        var vm = await CreateAsync(client, "power-refused");
        factory.Runtime.NextFailure = new VmRuntimeException("power-refused is already running");
        var response = await client.PostAsync($"/api/v1/vms/{vm.Id}/start", null, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        var problem = await response.ReadJsonAsync();
        problem.GetProperty("detail").GetString().Should().Be("power-refused is already running");
    }

    [Fact]
    public async Task Unknown_vm_is_404_without_asking_the_runtime()
    {
        using var client = factory.CreateClient();
        var id = Guid.NewGuid();
        (await client.PostAsync($"/api/v1/vms/{id}/start", null, _ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        factory.Runtime.Calls.Should().NotContain(c => c.VmId == id);
    }

    [Fact]
    public async Task Without_a_supervisor_every_action_is_503_with_the_reason()
    {
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IVmRuntime, UnavailableVmRuntime>()));
        using var client = app.CreateClient();
        var vm = await CreateAsync(client, "power-unavailable");
        var response = await client.PostAsync($"/api/v1/vms/{vm.Id}/start", null, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await response.ReadJsonAsync()).GetProperty("detail").GetString().Should().Be("The VM supervisor is not running");
    }
}
