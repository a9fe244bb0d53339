using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Web.Endpoints;
using Platform.Web.Security;
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

        /// <summary>The next entry (comments skipped), within ten seconds.</summary>
        public async Task<VmEventResponse> NextAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            string? kind = null;
            while (await reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    kind = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    kind.Should().Be("vm-event");
                    return JsonSerializer.Deserialize<VmEventResponse>(line["data: ".Length..], ApiJson.Options)!;
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
