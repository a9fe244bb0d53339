using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.History;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

/// <summary>
/// <c>/api/v1/vms/{id}/history</c> and <c>/api/v1/host/history</c> over real HTTP: the JSON's shape, points written to the
/// store coming back, a bad range refused, and the privileges (VM.Audit on that VM, Sys.Audit for the host).
/// </summary>
public sealed class HistoryEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<VmResponse> CreateVmAsync(HttpClient client, string name) =>
        (await (await client.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct)).ReadAsync<VmResponse>())!;

    [Fact]
    public async Task A_vm_s_history_is_timestamps_and_named_series_with_the_recorded_values_and_nulls_elsewhere()
    {
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, "history-shape");
        var store = factory.Services.GetRequiredService<HistoryStore>();
        var now = DateTimeOffset.UtcNow;
        double[] values = [.. Enumerable.Range(1, HistorySeriesSets.Vm.Count).Select(i => i * 10.0)];
        store.RecordVm(vm.Id, now, values);

        var response = await admin.GetAsync($"/api/v1/vms/{vm.Id}/history?range=hour", Ct);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var json = await response.ReadJsonAsync();
        json.GetProperty("range").GetString().Should().Be("hour");
        json.GetProperty("stepSeconds").GetInt32().Should().Be(10);
        var timestamps = json.GetProperty("timestamps").EnumerateArray().Select(t => t.GetDateTimeOffset()).ToList();
        timestamps.Should().HaveCount(360).And.BeInAscendingOrder();
        timestamps[^1].Should().BeCloseTo(now, TimeSpan.FromSeconds(20));
        var series = json.GetProperty("series").EnumerateArray().ToList();
        series.Select(s => s.GetProperty("name").GetString()).Should().Equal(HistorySeriesSets.Vm.Select(s => s.Name));
        var cpu = series[0];
        cpu.GetProperty("unit").GetString().Should().Be("percent");
        var cpuValues = cpu.GetProperty("values").EnumerateArray().ToList();
        cpuValues.Should().HaveCount(360);
        cpuValues.Where(v => v.ValueKind == JsonValueKind.Number).Should().ContainSingle().Which.GetDouble().Should().Be(10);
        cpuValues.Count(v => v.ValueKind == JsonValueKind.Null).Should().Be(359);
        series.Single(s => s.GetProperty("name").GetString() == "exits").GetProperty("values").EnumerateArray()
            .Should().Contain(v => v.ValueKind == JsonValueKind.Number && v.GetDouble() == 120);

        foreach (var (range, step, count) in new[] { ("day", 240, 360), ("week", 1800, 336), ("month", 7200, 360), ("year", 86400, 365) })
        {
            var longer = await (await admin.GetAsync($"/api/v1/vms/{vm.Id}/history?range={range}", Ct)).ReadJsonAsync();
            longer.GetProperty("stepSeconds").GetInt32().Should().Be(step);
            longer.GetProperty("timestamps").GetArrayLength().Should().Be(count);
            longer.GetProperty("series")[0].GetProperty("values").EnumerateArray().Should().Contain(v => v.ValueKind == JsonValueKind.Number, range);
        }

        (await admin.GetAsync($"/api/v1/vms/{vm.Id}/history", Ct)).StatusCode.Should().Be(HttpStatusCode.OK, "hour is the default");
    }

    [Fact]
    public async Task A_bad_range_is_400_naming_the_ranges_and_an_unknown_vm_404()
    {
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, "history-bad-range");
        var refused = await admin.GetAsync($"/api/v1/vms/{vm.Id}/history?range=fortnight", Ct);
        refused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await refused.Content.ReadAsStringAsync(Ct)).Should().Contain("hour, day, week, month, year");
        (await admin.GetAsync("/api/v1/host/history?range=decade", Ct)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await admin.GetAsync($"/api/v1/vms/{Guid.NewGuid()}/history", Ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_user_without_vm_audit_on_the_vm_is_refused_and_one_with_it_reads()
    {
        using var admin = factory.CreateClient();
        var theirs = await CreateVmAsync(admin, "history-theirs");
        var other = await CreateVmAsync(admin, "history-other");
        factory.Services.GetRequiredService<HistoryStore>().RecordVm(other.Id, DateTimeOffset.UtcNow, new double[HistorySeriesSets.Vm.Count]);
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "history-vm-user", (BuiltInRoles.VmUserId, theirs.Id));
        using var user = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId));

        (await user.GetAsync($"/api/v1/vms/{theirs.Id}/history?range=day", Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        var refused = await user.GetAsync($"/api/v1/vms/{other.Id}/history?range=day", Ct);
        refused.StatusCode.Should().Be(HttpStatusCode.NotFound, "a VM the caller may not see is not there for them");
        (await refused.Content.ReadAsStringAsync(Ct)).Should().NotContain("series");

        // A token cut down to no VM.Audit does not see the user's own VM either (as GET /api/v1/vms/{id}).
        using var scoped = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId, Privileges.VmConsole));
        (await scoped.GetAsync($"/api/v1/vms/{theirs.Id}/history", Ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await scoped.GetAsync($"/api/v1/vms/{theirs.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Host_history_needs_sys_audit_and_has_the_host_s_series()
    {
        using var admin = factory.CreateClient();
        factory.Services.GetRequiredService<HistoryStore>().RecordHost(DateTimeOffset.UtcNow, [50, 1e9, 2e9, 1, 1, 1, 3e9, 4e9, 2]);
        var json = await (await admin.GetAsync("/api/v1/host/history?range=week", Ct)).ReadJsonAsync();
        json.GetProperty("series").EnumerateArray().Select(s => s.GetProperty("name").GetString())
            .Should().Equal("cpu", "memory_used", "memory_total", "load1", "load5", "load15", "data_used", "data_free", "vms_running");
        json.GetProperty("series")[8].GetProperty("values").EnumerateArray().Should().Contain(v => v.ValueKind == JsonValueKind.Number);

        string userId = await TestAccounts.CreateUserAsync(factory.Services, "history-host-vm-user", (BuiltInRoles.VmUserId, null));
        using var user = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId));
        var refused = await user.GetAsync("/api/v1/host/history", Ct);
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await refused.Content.ReadAsStringAsync(Ct)).Should().Contain("Sys.Audit");

        string auditorId = await TestAccounts.CreateUserAsync(factory.Services, "history-auditor", (BuiltInRoles.AuditorId, null));
        using var auditor = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, auditorId));
        (await auditor.GetAsync("/api/v1/host/history?range=year", Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
