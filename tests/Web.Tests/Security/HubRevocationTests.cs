using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Hubs;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Fakes;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>An open hub connection hears a VM's state changes and counters only while its user may audit that VM.</summary>
public sealed class HubRevocationTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_grant_revoked_while_connected_stops_that_vm_s_state_changes_and_stats_at_once()
    {
        var stats = new FakeVmRuntimeInfo();
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IVmRuntimeInfo>(stats)));
        using var admin = app.CreateClient().WithToken(factory.AdminToken);
        var revoked = await CreateVmAsync(admin, "hub-revoked-vm");
        var kept = await CreateVmAsync(admin, "hub-kept-vm");
        string userId = await TestAccounts.CreateUserAsync(app.Services, "hub-revoked-user", (BuiltInRoles.VmUserId, revoked.Id), (BuiltInRoles.VmUserId, kept.Id));
        var (_, cookie) = await TestAccounts.SignInAsync(app, "hub-revoked-user");
        await using var hub = TestAccounts.VmHubConnection(app, cookie);
        var heard = new ConcurrentQueue<(string Kind, Guid VmId)>();
        hub.On<VmStateChanged>("StateChanged", change => heard.Enqueue(("state", change.VmId)));
        hub.On<JsonElement>("Stats", sample => heard.Enqueue(("stats", sample.GetProperty("vmId").GetGuid())));
        await hub.StartAsync(Ct);
        await hub.InvokeAsync("Watch", revoked.Id, Ct);
        await hub.InvokeAsync("Watch", kept.Id, Ct);

        Emit(stats, revoked.Id);
        await WaitUntilAsync(() => heard.Contains(("state", revoked.Id)) && heard.Contains(("stats", revoked.Id)));

        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(Ct))
        {
            await db.AccessGrants.Where(g => g.UserId == userId && g.VmId == revoked.Id).ExecuteDeleteAsync(Ct);
        }

        app.Services.GetRequiredService<IPermissionService>().Invalidate();
        heard.Clear();
        Emit(stats, revoked.Id);
        Emit(stats, kept.Id);

        // The kept VM's events show the pushes had their turn; the revoked VM's must not have come with them.
        await WaitUntilAsync(() => heard.Contains(("state", kept.Id)) && heard.Contains(("stats", kept.Id)));
        await Task.Delay(300, Ct);
        heard.Should().NotContain(h => h.VmId == revoked.Id, "the user may no longer see that VM");
        hub.State.Should().Be(HubConnectionState.Connected, "the user is still active and may see the other VM");
    }

    private void Emit(FakeVmRuntimeInfo stats, Guid vmId)
    {
        factory.Runtime.Raise(vmId, VmPowerState.Running);
        stats.Publish(new VmStatsSample(vmId, new VmmStats(1, 10, 1 << 20, 1 << 20, [], []), DateTimeOffset.UtcNow));
    }

    private static async Task<VmResponse> CreateVmAsync(HttpClient admin, string name) =>
        (await (await admin.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct)).ReadAsync<VmResponse>())!;

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}
