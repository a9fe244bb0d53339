using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Tasks;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

/// <summary>
/// <c>GET /api/v1/events</c> as <c>text/event-stream</c>: a script with an API token follows the event log live, and
/// hears only the VMs its user may see, as the pages do.
/// </summary>
public sealed class EventStreamTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_token_follows_the_events_of_a_start()
    {
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, "stream-start");
        await using var stream = await EventStream.OpenAsync(factory.CreateClient(), null);

        (await admin.PostAsync($"/api/v1/vms/{vm.Id}/start", null, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);

        var started = await stream.NextOfAsync(vm.Id);
        started.Kind.Should().Be("Start");
        started.VmName.Should().Be("stream-start");
        started.Result.Should().Be(Platform.Web.Data.VmEventResult.Succeeded);
        started.Message.Should().NotBeEmpty();
    }

    [Fact]
    public async Task The_vmId_filter_leaves_out_other_vms()
    {
        using var admin = factory.CreateClient();
        var other = await CreateVmAsync(admin, "stream-filter-other");
        var watched = await CreateVmAsync(admin, "stream-filter-watched");
        await using var stream = await EventStream.OpenAsync(factory.CreateClient(), watched.Id);

        await admin.PostAsync($"/api/v1/vms/{other.Id}/start", null, Ct);
        await admin.PostAsync($"/api/v1/vms/{watched.Id}/start", null, Ct);

        // The log is written in order, so by the watched VM's entry the other's would have come first.
        (await stream.NextAsync()).VmId.Should().Be(watched.Id);
    }

    [Fact]
    public async Task A_user_without_access_to_a_vm_hears_none_of_its_events()
    {
        using var admin = factory.CreateClient();
        var hidden = await CreateVmAsync(admin, "stream-hidden");
        var marker = await CreateVmAsync(admin, "stream-marker");
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "stream-limited", (BuiltInRoles.VmUserId, marker.Id));
        await using var stream = await EventStream.OpenAsync(factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId)), null);

        await admin.PostAsync($"/api/v1/vms/{hidden.Id}/start", null, Ct);
        await admin.PostAsync($"/api/v1/vms/{marker.Id}/start", null, Ct);

        // The hidden VM's entry was written first: had it been sent, it would come before the marker's.
        (await stream.NextAsync()).VmId.Should().Be(marker.Id);
    }

    [Fact]
    public async Task A_grant_taken_away_stops_that_vms_events()
    {
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, "stream-revoked");
        var marker = await CreateVmAsync(admin, "stream-revoked-marker");
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "stream-revoked-user", (BuiltInRoles.VmUserId, vm.Id), (BuiltInRoles.VmUserId, marker.Id));
        await using var stream = await EventStream.OpenAsync(factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId)), null);
        await admin.PostAsync($"/api/v1/vms/{vm.Id}/start", null, Ct);
        (await stream.NextAsync()).VmId.Should().Be(vm.Id);

        await TestAccounts.RevokeAllAsync(factory.Services, userId);
        await TestAccounts.GrantAsync(factory.Services, userId, (BuiltInRoles.VmUserId, marker.Id));
        await admin.PostAsync($"/api/v1/vms/{vm.Id}/stop", null, Ct);
        await admin.PostAsync($"/api/v1/vms/{marker.Id}/start", null, Ct);

        (await stream.NextAsync()).VmId.Should().Be(marker.Id, "the VM's grant is gone, so its stop is not heard");
    }

    [Fact]
    public async Task Revoking_the_token_ends_its_open_stream()
    {
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, "stream-token-revoked");
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "stream-token-revoked-user", (BuiltInRoles.VmUserId, vm.Id));
        await using var stream = await EventStream.OpenAsync(factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId)), null);
        await admin.PostAsync($"/api/v1/vms/{vm.Id}/start", null, Ct);
        (await stream.NextAsync()).VmId.Should().Be(vm.Id, "the token follows its VM's events while it is valid");

        Guid tokenId;
        await using (var db = await factory.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(Ct))
        {
            tokenId = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
                db.ApiTokens.Where(t => t.UserId == userId).Select(t => t.Id), Ct);
        }

        (await factory.Services.GetRequiredService<ApiTokenService>().RevokeAsync(tokenId, null, Ct)).Succeeded.Should().BeTrue();

        // Its user keeps the grant: only the token is gone, and the stream ends with it (within NextAsync's ten seconds).
        var drain = async () =>
        {
            while (true)
            {
                await stream.NextAsync();
            }
        };
        await drain.Should().ThrowAsync<EndOfStreamException>("a revoked token's stream ends, as a signed-out browser's does");
    }

    [Fact]
    public async Task A_vm_the_caller_may_not_see_is_404_and_a_bad_token_is_401()
    {
        using var admin = factory.CreateClient();
        var hidden = await CreateVmAsync(admin, "stream-404");
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "stream-404-user", (BuiltInRoles.AuditorId, (await CreateVmAsync(admin, "stream-404-own")).Id));
        using var limited = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId));
        (await EventStream.GetAsync(limited, hidden.Id)).StatusCode.Should().Be(HttpStatusCode.NotFound);

        using var forged = factory.CreateClient().WithToken("plt_not-a-real-token");
        (await EventStream.GetAsync(forged, null)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        using var anonymous = factory.CreateClient();
        anonymous.DefaultRequestHeaders.Authorization = null;
        (await EventStream.GetAsync(anonymous, null)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_start_and_a_shutdown_are_heard_as_tasks_that_begin_log_and_end()
    {
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, "stream-tasks");
        await using var stream = await EventStream.OpenAsync(factory.CreateClient(), vm.Id);

        (await admin.PostAsync($"/api/v1/vms/{vm.Id}/start", null, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await admin.PostAsync($"/api/v1/vms/{vm.Id}/shutdown", null, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);

        var began = await stream.NextTaskAsync();
        began.Change.Should().Be(TaskEventResponse.Began);
        began.Task.Action.Should().Be(TaskActions.VmStart);
        began.Task.VmName.Should().Be("stream-tasks");
        began.Task.Status.Should().Be(TaskEntryStatus.Running);
        began.Task.UserName.Should().NotBeNullOrEmpty();
        var line = await stream.NextTaskAsync();
        line.Change.Should().Be(TaskEventResponse.Progress);
        line.Line!.Text.Should().StartWith("Start stream-tasks", "the line the task logged");
        var ended = await stream.NextTaskAsync();
        ended.Change.Should().Be(TaskEventResponse.Ended);
        ended.Task.Id.Should().Be(began.Task.Id);
        ended.Task.Status.Should().Be(TaskEntryStatus.Ok);
        ended.Task.EndedAt.Should().NotBeNull();

        var shutdown = await stream.NextTaskAsync();
        shutdown.Task.Action.Should().Be(TaskActions.VmShutdown);
        var progress = await stream.NextTaskAsync();
        progress.Change.Should().Be(TaskEventResponse.Progress);
        progress.Task.Id.Should().Be(shutdown.Task.Id);
        progress.Line!.Text.Should().Contain("asking the guest");
        (await stream.NextTaskAsync()).Change.Should().Be(TaskEventResponse.Ended);
    }

    [Fact]
    public async Task A_user_without_access_to_a_vm_hears_none_of_its_tasks_nor_the_host_s()
    {
        using var admin = factory.CreateClient();
        var hidden = await CreateVmAsync(admin, "stream-task-hidden");
        var marker = await CreateVmAsync(admin, "stream-task-marker");
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "stream-task-limited", (BuiltInRoles.VmUserId, marker.Id));
        await using var stream = await EventStream.OpenAsync(factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId)), null);
        await using var everything = await EventStream.OpenAsync(factory.CreateClient(), null);

        await admin.PostAsync($"/api/v1/vms/{hidden.Id}/start", null, Ct);
        using (var host = factory.Services.GetRequiredService<ITaskLog>().Begin(TaskActions.ImageUpload, null, "stream-task.iso"))
        {
            host.Succeed();
        }

        await admin.PostAsync($"/api/v1/vms/{marker.Id}/start", null, Ct);

        // The hidden VM's task and the host's came first: had either been sent, it would come before the marker's.
        var first = await stream.NextTaskAsync();
        first.Task.VmId.Should().Be(marker.Id);
        first.Change.Should().Be(TaskEventResponse.Began);
        // The administrator's stream has all three, so they were there to be left out.
        var all = new List<TaskEventResponse>();
        for (int i = 0; i < 8; i++)
        {
            all.Add(await everything.NextTaskAsync());
        }

        all.Select(e => e.Task.VmId).Distinct().Should().Equal(hidden.Id, null, marker.Id);
    }

    private static async Task<VmResponse> CreateVmAsync(HttpClient admin, string name)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (await response.ReadAsync<VmResponse>())!;
    }

    /// <summary>A client's open event stream, read entry by entry.</summary>
    private sealed class EventStream(HttpClient client, HttpResponseMessage response, StreamReader reader) : IAsyncDisposable
    {
        public static async Task<HttpResponseMessage> GetAsync(HttpClient client, Guid? vmId)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, vmId is { } id ? $"/api/v1/events?vmId={id}" : "/api/v1/events");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        }

        public static async Task<EventStream> OpenAsync(HttpClient client, Guid? vmId)
        {
            var response = await GetAsync(client, vmId);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
            // The opening comment: once it is here the server has subscribed, so nothing after this is missed.
            (await reader.ReadLineAsync(Ct)).Should().StartWith(":");
            return new EventStream(client, response, reader);
        }

        /// <summary>The next event log entry (comments and task changes skipped), within ten seconds.</summary>
        public Task<VmEventResponse> NextAsync() => NextOfKindAsync<VmEventResponse>("vm-event");

        /// <summary>The next task change (comments and event log entries skipped), within ten seconds.</summary>
        public Task<TaskEventResponse> NextTaskAsync() => NextOfKindAsync<TaskEventResponse>("task");

        private async Task<T> NextOfKindAsync<T>(string wanted)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            string? kind = null;
            while (await reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    kind = line["event: ".Length..];
                    kind.Should().BeOneOf("vm-event", "task");
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal) && kind == wanted)
                {
                    return JsonSerializer.Deserialize<T>(line["data: ".Length..], ApiJson.Options)!;
                }
            }

            throw new EndOfStreamException("the event stream ended");
        }

        public async Task<VmEventResponse> NextOfAsync(Guid vmId)
        {
            while (true)
            {
                var next = await NextAsync();
                if (next.VmId == vmId)
                {
                    return next;
                }
            }
        }

        public ValueTask DisposeAsync()
        {
            reader.Dispose();
            response.Dispose();
            client.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
