using Bunit;
using Platform.Web.Components.Tasks;
using Platform.Web.Components.Vms;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Tasks;

namespace Platform.Web.Tests.Components.Tasks;

/// <summary>The tasks panel at the bottom of every page: live, with status, duration and user; a click shows the lines.</summary>
public sealed class TasksPanelTests : DashboardTestContext
{
    [Fact]
    public async Task A_task_shows_live_as_it_runs_and_ends_and_a_click_shows_its_lines()
    {
        var vm = await CreateVmAsync("panel-vm");
        var panel = Render<TasksPanel>();

        var task = Db.Tasks.Begin(TaskActions.VmStart, vm.Id, userName: "alice");
        panel.WaitForAssertion(() => panel.Find("[data-testid=tasks-newest]").TextContent.Should().Contain("Start panel-vm — running"));
        panel.Find("[data-testid=tasks-running]").TextContent.Should().Contain("1 running");

        await panel.Find("[data-testid=tasks-toggle]").ClickAsync(new());
        task.Log("asking the supervisor");
        task.Succeed("panel-vm is running");

        panel.WaitForAssertion(() => panel.Find("[data-testid=task-status]").TextContent.Trim().Should().Be("ok"));
        panel.FindAll("[data-testid=tasks-running]").Should().BeEmpty();
        var row = panel.Find("[data-testid=tasks-table] tbody tr");
        row.TextContent.Should().Contain("alice").And.MatchRegex(@"\d+\.\d s");
        await row.ClickAsync(new());
        panel.WaitForAssertion(() => panel.FindAll("[data-testid=task-log-line]").Select(l => l.TextContent)
            .Should().Contain(l => l.EndsWith("asking the supervisor", StringComparison.Ordinal))
            .And.Contain(l => l.EndsWith("OK: panel-vm is running", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_start_from_the_power_buttons_appears_and_a_failed_one_says_why()
    {
        var vm = await CreateVmAsync("panel-power");
        var panel = Render<TasksPanel>();
        var buttons = Render<VmPowerButtons>(p => p.Add(b => b.VmId, vm.Id).Add(b => b.VmName, "panel-power").Add(b => b.State, VmPowerState.Stopped));

        await buttons.Find("button[aria-label='Start panel-power']").ClickAsync(new());
        panel.WaitForAssertion(() => panel.Find("[data-testid=tasks-newest]").TextContent.Should().Contain("Start panel-power — OK"));

        Runtime.SetState(vm.Id, VmPowerState.Stopped);
        Runtime.NextFailure = new VmRuntimeException("The VMM exited at start (code 1): no kernel");
        await buttons.Find("button[aria-label='Start panel-power']").ClickAsync(new());
        panel.WaitForAssertion(() => panel.Find("[data-testid=tasks-newest]").TextContent
            .Should().Contain("Start panel-power — failed: The VMM exited at start (code 1): no kernel"));
    }

    [Fact]
    public async Task A_user_sees_only_their_vms_tasks_and_no_host_tasks()
    {
        var visible = await CreateVmAsync("panel-mine");
        var hidden = await CreateVmAsync("panel-hidden");
        ActAs(Db.AddUser("panel-user", (BuiltInRoles.VmUserId, visible.Id)), "panel-user");
        Db.Tasks.Begin(TaskActions.VmStart, hidden.Id).Succeed();
        var panel = Render<TasksPanel>();
        await panel.Find("[data-testid=tasks-toggle]").ClickAsync(new());

        Db.Tasks.Begin(TaskActions.ImageUpload, null, "secret.img").Succeed();
        Db.Tasks.Begin(TaskActions.VmStop, hidden.Id).Succeed();
        Db.Tasks.Begin(TaskActions.VmStart, visible.Id).Succeed();

        panel.WaitForAssertion(() => panel.FindAll("[data-testid=task-row]").Select(r => r.TextContent).Should().Equal("Start panel-mine"));
        panel.Markup.Should().NotContain("secret.img").And.NotContain("panel-hidden");
    }
}
