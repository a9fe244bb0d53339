using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Tasks;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Hubs;

/// <summary>
/// The hub's <c>Task</c> pushes: a task's begin, log lines and end reach the connections watching all VMs whose user
/// may see the task's VM (the host's tasks: Sys.Audit), and no one else.
/// </summary>
public sealed class VmHubTaskTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_watcher_hears_the_tasks_of_the_vms_it_may_see_and_nothing_of_a_hidden_vm_or_the_host()
    {
        using var admin = factory.CreateClient();
        var own = await CreateVmAsync(admin, "hub-task-own");
        var hidden = await CreateVmAsync(admin, "hub-task-hidden");
        await TestAccounts.CreateUserAsync(factory.Services, "hub-task-user", (BuiltInRoles.VmUserId, own.Id));
        await TestAccounts.CreateUserAsync(factory.Services, "hub-task-auditor", (BuiltInRoles.AuditorId, null));
        await using var user = await WatchAllAsync("hub-task-user");
        await using var auditor = await WatchAllAsync("hub-task-auditor");

        (await admin.PostAsync($"/api/v1/vms/{hidden.Id}/start", null, Ct)).EnsureSuccessStatusCode();
        using (var host = factory.Services.GetRequiredService<ITaskLog>().Begin(TaskActions.ImageUpload, null, "hub-task-image.iso"))
        {
            host.Log("Upload hub-task-image.iso");
            host.Succeed();
        }

        (await admin.PostAsync($"/api/v1/vms/{own.Id}/start", null, Ct)).EnsureSuccessStatusCode();
        (await admin.PostAsync($"/api/v1/vms/{own.Id}/shutdown", null, Ct)).EnsureSuccessStatusCode();

        // The auditor sees everything: the hidden VM's start, the host's upload with its line, and the own VM's tasks.
        await auditor.WaitForAsync(e => e.Task.VmId == own.Id && e.Task.Action == TaskActions.VmShutdown && e.Change == TaskEventResponse.Ended);
        auditor.Heard.Should().Contain(e => e.Task.VmId == hidden.Id && e.Task.Action == TaskActions.VmStart && e.Change == TaskEventResponse.Began);
        auditor.Heard.Should().Contain(e => e.Task.VmId == hidden.Id && e.Change == TaskEventResponse.Ended && e.Task.Status == TaskEntryStatus.Ok);
        auditor.Heard.Should().Contain(e => e.Task.VmId == null && e.Change == TaskEventResponse.Progress && e.Line!.Text == "Upload hub-task-image.iso");

        // The user hears their VM's start and shut down, in order, and its progress line…
        await user.WaitForAsync(e => e.Task.VmId == own.Id && e.Task.Action == TaskActions.VmShutdown && e.Change == TaskEventResponse.Ended);
        var ownTasks = user.Heard.Where(e => e.Task.VmId == own.Id).Select(e => $"{e.Task.Action} {e.Change}").ToList();
        ownTasks.Should().ContainInOrder("vm.start began", "vm.start ended", "vm.shutdown began", "vm.shutdown progress", "vm.shutdown ended");
        user.Heard.Should().OnlyContain(e => e.Task.VmId == own.Id,
            "the hidden VM's tasks (which came first) and the host's (Sys.Audit) are not this user's to hear");
        user.Heard.First(e => e.Task.Action == TaskActions.VmStart).Task.UserName.Should().NotBeNullOrEmpty("who did it");
    }

    private static async Task<VmResponse> CreateVmAsync(HttpClient admin, string name) =>
        (await (await admin.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct)).ReadAsync<VmResponse>())!;

    private async Task<Listener> WatchAllAsync(string userName)
    {
        var (_, cookie) = await TestAccounts.SignInAsync(factory, userName);
        var hub = TestAccounts.VmHubConnection(factory, cookie);
        var listener = new Listener(hub);
        hub.On<TaskEventResponse>("Task", listener.Heard.Enqueue);
        await hub.StartAsync(Ct);
        await hub.InvokeAsync("WatchAll", Ct);
        return listener;
    }

    private sealed class Listener(HubConnection hub) : IAsyncDisposable
    {
        public ConcurrentQueue<TaskEventResponse> Heard { get; } = new();

        public async Task WaitForAsync(Func<TaskEventResponse, bool> condition)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            while (!Heard.Any(condition))
            {
                await Task.Delay(20, timeout.Token);
            }
        }

        public ValueTask DisposeAsync() => hub.DisposeAsync();
    }
}
