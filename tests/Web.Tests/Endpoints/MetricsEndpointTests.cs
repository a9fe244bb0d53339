using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Fakes;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

/// <summary>/metrics: Prometheus text with every running VM's counters under its name and id, and who may read it.</summary>
public sealed class MetricsEndpointTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_auditor_s_token_reads_prometheus_text_with_a_running_vm_s_series_under_its_name_and_id()
    {
        var stats = new FakeVmRuntimeInfo();
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IVmRuntimeInfo>(stats)));
        using var admin = app.CreateClient().WithToken(factory.AdminToken);
        var vm = (await (await admin.PostAsJsonAsync("/api/v1/vms", new { name = "metrics-web-1", kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct))
            .ReadAsync<VmResponse>())!;
        string auditorId = await TestAccounts.CreateUserAsync(app.Services, "metrics-auditor", (BuiltInRoles.AuditorId, null));
        using var auditor = app.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(app.Services, auditorId));

        factory.Runtime.SetState(vm.Id, VmPowerState.Running);
        stats.Publish(new VmStatsSample(vm.Id, Sample(), DateTimeOffset.UtcNow));

        IReadOnlyList<PrometheusSample> samples = [];
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            // The VM's name is looked up once its first sample arrives.
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            while (!samples.Any(s => s.Name.StartsWith("platform_vm_", StringComparison.Ordinal) && s.Labels.GetValueOrDefault("vm_id") == vm.Id.ToString()))
            {
                await Task.Delay(50, timeout.Token);
                samples = PrometheusText.Parse(await ScrapeAsync(auditor, HttpStatusCode.OK));
            }
        }

        double Of(string name, string? device = null) => samples.Single(s => s.Name == name && s.Labels.GetValueOrDefault("vm_id") == vm.Id.ToString()
            && (device is null || s.Labels.GetValueOrDefault("device") == device)).Value;
        var ours = samples.Where(s => s.Labels.GetValueOrDefault("vm_id") == vm.Id.ToString()).ToList();
        ours.Should().OnlyContain(s => s.Labels["vm_name"] == "metrics-web-1");
        Of("platform_vm_cpu_time_seconds_total").Should().Be(2.5);
        Of("platform_vm_exits_total").Should().Be(700);
        Of("platform_vm_memory_rss_bytes").Should().Be(50_000_000);
        Of("platform_vm_memory_guest_bytes").Should().Be(64 << 20);
        Of("platform_vm_disk_read_bytes_total", "disk0").Should().Be(4096);
        Of("platform_vm_disk_write_bytes_total", "disk0").Should().Be(8192);
        Of("platform_vm_disk_read_requests_total", "disk0").Should().Be(3);
        Of("platform_vm_network_receive_bytes_total", "net0").Should().Be(1500);
        Of("platform_vm_network_transmit_packets_total", "net0").Should().Be(4);
        ours.Should().NotContain(s => s.Labels.GetValueOrDefault("device") == "serial0", "the serial port is neither a disk nor a NIC");

        samples.Should().Contain(s => s.Name == "platform_host_memory_total_bytes" && s.Value == 16384 * 1048576.0);
        samples.Should().Contain(s => s.Name == "platform_host_load" && s.Labels["period"] == "1m");
        samples.Should().Contain(s => s.Name == "platform_host_data_free_bytes" && s.Value > 0);
        samples.Should().Contain(s => s.Name == "platform_host_vms_running" && s.Value >= 1);
        samples.Should().Contain(s => s.Name == "http_server_request_duration_seconds_count", "ASP.NET Core's requests are counted");
    }

    [Fact]
    public async Task Without_a_token_it_is_401_and_with_a_token_lacking_sys_audit_403()
    {
        using var anonymous = factory.CreateClient();
        anonymous.DefaultRequestHeaders.Authorization = null;
        var refused = await anonymous.GetAsync("/metrics", Ct);
        refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        refused.Headers.WwwAuthenticate.ToString().Should().Contain("Bearer");

        string vmUserId = await TestAccounts.CreateUserAsync(factory.Services, "metrics-vm-user", (BuiltInRoles.VmUserId, null));
        using var vmUser = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, vmUserId));
        (await ScrapeAsync(vmUser, HttpStatusCode.Forbidden)).Should().NotContain("platform_");

        // An administrator's token scoped without Sys.Audit is refused too: the token's scope is what counts.
        string adminId = await TestAccounts.AdminIdAsync(factory.Services);
        using var scoped = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, adminId, Privileges.VmScoped));
        await ScrapeAsync(scoped, HttpStatusCode.Forbidden);

        using var badToken = factory.CreateClient().WithToken("plt_not-a-token");
        await ScrapeAsync(badToken, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Loopback_reads_without_a_token_only_when_configured_and_another_address_never_does()
    {
        using var allowed = factory.WithWebHostBuilder(b => b.UseSetting("Platform:Metrics:AllowLoopback", "true"));
        (await ScrapeFromAsync(allowed, IPAddress.Loopback)).Response.StatusCode.Should().Be(StatusCodes.Status200OK);
        (await ScrapeFromAsync(allowed, IPAddress.IPv6Loopback)).Response.StatusCode.Should().Be(StatusCodes.Status200OK);
        (await ScrapeFromAsync(allowed, IPAddress.Parse("203.0.113.7"))).Response.StatusCode.Should().Be(StatusCodes.Status401Unauthorized);
        (await ScrapeFromAsync(factory, IPAddress.Loopback)).Response.StatusCode.Should().Be(StatusCodes.Status401Unauthorized, "loopback is off by default");
    }

    private static async Task<HttpContext> ScrapeFromAsync(WebApplicationFactory<Program> app, IPAddress remote) =>
        await app.Server.SendAsync(context =>
        {
            context.Request.Method = HttpMethods.Get;
            context.Request.Path = "/metrics";
            context.Connection.RemoteIpAddress = remote;
        }, Ct);

    private static async Task<string> ScrapeAsync(HttpClient client, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/plain"));
        var response = await client.SendAsync(request, Ct);
        string body = await response.Content.ReadAsStringAsync(Ct);
        response.StatusCode.Should().Be(expected, body);
        if (expected == HttpStatusCode.OK)
        {
            response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        }

        return body;
    }

    private static VmmStats Sample() => new(
        Boots: 1, UptimeMs: 12_000, GuestMemoryBytes: 64 << 20, VmmRssBytes: 50_000_000,
        Vcpus: [new VcpuStats(0, 300, 1_000), new VcpuStats(1, 400, 1_500)],
        Devices:
        [
            new DeviceStats("disk0", "virtio-blk", new Dictionary<string, long> { ["read_bytes"] = 4096, ["write_bytes"] = 8192, ["read_requests"] = 3, ["write_requests"] = 2 }),
            new DeviceStats("net0", "virtio-net", new Dictionary<string, long> { ["rx_bytes"] = 1500, ["tx_bytes"] = 600, ["rx_frames"] = 2, ["tx_frames"] = 4 }),
            new DeviceStats("serial0", "serial", new Dictionary<string, long> { ["rx_bytes"] = 10 }),
        ]);
}
