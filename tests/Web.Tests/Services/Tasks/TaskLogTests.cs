using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Cluster;
using Platform.Web.Services.Tasks;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.Tasks;

/// <summary>The task log's own rules: outcomes, bounded lines, retention by age and count, and tasks a stopped dashboard left running.</summary>
public sealed class TaskLogTests : IDisposable
{
    private readonly TestDatabase _db = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly TaskLog _tasks;

    public TaskLogTests() => _tasks = new TaskLog(_db.Factory, _clock, NullLogger<TaskLog>.Instance, Host("host-a"));

    private static ClusterSettings Host(string name) => new() { HostName = name };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task A_task_is_stored_running_then_ended_with_its_lines_and_the_first_ending_counts()
    {
        var heard = new List<TaskEntry>();
        using var subscription = _tasks.Subscribe(heard.Add);
        long id;
        using (var task = _tasks.Begin(TaskActions.DatabaseBackup, null, "daily", userName: "bob"))
        {
            id = task.Id;
            (await _tasks.FindAsync(id, Ct))!.Status.Should().Be(TaskEntryStatus.Running);
            _clock.Advance(TimeSpan.FromSeconds(3));
            task.Log("first line\nsecond line");
            task.Fail("the disk is full");
            task.Succeed("too late");
        }

        var stored = await _tasks.FindAsync(id, Ct);
        stored!.Status.Should().Be(TaskEntryStatus.Failed);
        (stored.UserName, stored.Result, stored.EndedAt - stored.StartedAt).Should().Be(("bob", "the disk is full", TimeSpan.FromSeconds(3)));
        TaskLines.Parse(stored.Log).Select(l => l.Text).Should().Equal("first line", "second line", "FAILED: the disk is full");
        heard.Select(t => t.Status).Should().Equal(TaskEntryStatus.Running, TaskEntryStatus.Running, TaskEntryStatus.Failed);
    }

    [Fact]
    public async Task A_task_nobody_ended_fails_and_one_begun_in_a_request_names_the_requests_user()
    {
        long id;
        using (TaskActor.Use("carol (token 12345678)"))
        {
            using var task = _tasks.Begin(TaskActions.VmStart, null);
            id = task.Id;
        }

        var stored = await _tasks.FindAsync(id, Ct);
        (stored!.Status, stored.UserName).Should().Be((TaskEntryStatus.Failed, "carol (token 12345678)"));
        stored.Result.Should().Contain("without an outcome");
        TaskActor.Current.Should().BeNull("the scope ended");
    }

    [Fact]
    public async Task A_chatty_task_keeps_its_first_and_last_lines_within_the_bound()
    {
        using var task = _tasks.Begin(TaskActions.ImageUpload, null, "big.img");
        for (int i = 0; i < 1000; i++)
        {
            task.Log($"line {i}");
        }

        task.Log(new string('x', 5000));
        task.Succeed();

        var lines = TaskLines.Parse((await _tasks.FindAsync(task.Id, Ct))!.Log).Select(l => l.Text).ToList();
        lines.Count.Should().BeLessThanOrEqualTo(TaskLines.MaxLines + 1);
        lines[0].Should().Be("line 0");
        lines[19].Should().Be("line 19");
        lines[20].Should().MatchRegex(@"^\[\d+ lines left out\]$");
        lines[^3].Should().Be("line 999");
        lines[^2].Length.Should().Be(TaskLines.MaxLineLength);
        lines[^1].Should().Be("OK: done");
    }

    [Fact]
    public async Task Retention_drops_tasks_past_30_days_and_never_a_running_one()
    {
        var old = _tasks.Begin(TaskActions.VmStart, null);
        old.Succeed();
        var stillRunning = _tasks.Begin(TaskActions.ImageUpload, null);
        _clock.Advance(TaskRetention.KeepFor + TimeSpan.FromMinutes(1));
        var recent = _tasks.Begin(TaskActions.VmStop, null);
        recent.Succeed();

        await TaskRetention.PruneAsync(_db.Factory, _clock, NullLogger.Instance, Ct);

        (await _tasks.FindAsync(old.Id, Ct)).Should().BeNull();
        (await _tasks.FindAsync(recent.Id, Ct)).Should().NotBeNull();
        await using var db = await _db.Factory.CreateDbContextAsync(Ct);
        (await db.Tasks.AnyAsync(t => t.Id == stillRunning.Id, Ct)).Should().BeTrue();
        stillRunning.Succeed();
    }

    [Fact]
    public async Task Retention_keeps_the_newest_ten_thousand()
    {
        await using (var db = await _db.Factory.CreateDbContextAsync(Ct))
        {
            long now = _clock.GetUtcNow().UtcTicks;
            int count = TaskRetention.KeepCount + 5;
            await db.Database.ExecuteSqlAsync(
                $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) INSERT INTO Tasks (Action, StartedAt, Status, Log) SELECT 'vm.start', {now}, 'Ok', '' FROM n",
                Ct);
        }

        await TaskRetention.PruneAsync(_db.Factory, _clock, NullLogger.Instance, Ct);

        await using var check = await _db.Factory.CreateDbContextAsync(Ct);
        (await check.Tasks.CountAsync(Ct)).Should().Be(TaskRetention.KeepCount);
        (await check.Tasks.MinAsync(t => t.Id, Ct)).Should().Be(6, "the oldest five went");
    }

    [Fact]
    public async Task Tasks_a_stopped_dashboard_left_running_are_marked_cancelled_at_start()
    {
        var orphan = _tasks.Begin(TaskActions.VmStart, null);
        // A new dashboard: a new task log over the same database, its own running task left alone.
        var next = new TaskLog(_db.Factory, _clock, NullLogger<TaskLog>.Instance, Host("host-a"));
        var mine = next.Begin(TaskActions.VmStop, null);
        var retention = new TaskRetention(_db.Factory, next, _clock, NullLogger<TaskRetention>.Instance, Host("host-a"));

        await retention.StartAsync(Ct);
        await retention.StopAsync(Ct);

        var stored = await next.FindAsync(orphan.Id, Ct);
        (stored!.Status, stored.Result).Should().Be((TaskEntryStatus.Cancelled, "The dashboard stopped while it ran; its lines were lost."));
        (await next.FindAsync(mine.Id, Ct))!.Status.Should().Be(TaskEntryStatus.Running);
        mine.Succeed();
    }

    [Fact]
    public async Task A_task_carries_its_host_and_another_host_s_start_leaves_its_running_tasks_alone()
    {
        // Two dashboards of a cluster on one database: host-b's running task is not host-a's to call off.
        var onB = new TaskLog(_db.Factory, _clock, NullLogger<TaskLog>.Instance, Host("host-b")).Begin(TaskActions.VmStart, null);
        var orphanOfA = _tasks.Begin(TaskActions.VmStop, null);
        var restartedA = new TaskLog(_db.Factory, _clock, NullLogger<TaskLog>.Instance, Host("host-a"));
        var retention = new TaskRetention(_db.Factory, restartedA, _clock, NullLogger<TaskRetention>.Instance, Host("host-a"));

        await retention.StartAsync(Ct);
        await retention.StopAsync(Ct);

        var b = await restartedA.FindAsync(onB.Id, Ct);
        (b!.Status, b.Host).Should().Be((TaskEntryStatus.Running, "host-b"), "host-b's dashboard is still running it");
        var a = await restartedA.FindAsync(orphanOfA.Id, Ct);
        (a!.Status, a.Host).Should().Be((TaskEntryStatus.Cancelled, "host-a"), "host-a stopped while it ran");
        Platform.Web.Endpoints.TaskResponse.From(b, withLines: false).Host.Should().Be("host-b", "the API says where a task runs");
        onB.Succeed();
    }

    [Fact]
    public async Task Lists_filter_by_vm_status_since_and_visibility()
    {
        var vm = (await _db.Vms.CreateAsync(new Platform.Web.Services.Vms.VmDefinitionInput { Name = "listed", KernelPath = "/k" }, Ct)).Value!;
        _tasks.Begin(TaskActions.VmStart, vm.Id).Fail("no");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var since = _clock.GetUtcNow();
        _tasks.Begin(TaskActions.VmStart, vm.Id).Succeed();
        _tasks.Begin(TaskActions.DatabaseBackup, null).Succeed();

        (await _tasks.ListAsync(new TaskQuery { VmId = vm.Id }, VmVisibility.Everything, Ct)).Items.Should().HaveCount(2).And.OnlyContain(t => t.VmName == "listed");
        (await _tasks.ListAsync(new TaskQuery { Status = TaskEntryStatus.Failed }, VmVisibility.Everything, Ct)).Items.Should().ContainSingle();
        (await _tasks.ListAsync(new TaskQuery { Since = since }, VmVisibility.Everything, Ct)).Total.Should().Be(2);
        var noHost = new VmVisibility(true, new HashSet<Guid>(), HostEvents: false);
        (await _tasks.ListAsync(new TaskQuery(), noHost, Ct)).Items.Should().OnlyContain(t => t.VmId == vm.Id);
        var nothing = new VmVisibility(false, new HashSet<Guid>(), HostEvents: false);
        (await _tasks.ListAsync(new TaskQuery(), nothing, Ct)).Total.Should().Be(0);
    }
}
