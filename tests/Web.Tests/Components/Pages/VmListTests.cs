using Bunit;
using Platform.Web.Components.Pages;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Tests.Components.Pages;

public sealed class VmListTests : DashboardTestContext
{
    private static string Rows => "[data-testid=vm-list] tbody tr";

    [Fact]
    public void Shows_the_empty_state_without_machines()
    {
        var page = Render<VmList>();
        page.WaitForAssertion(() => page.Find("[data-testid=vm-list-empty]").TextContent.Should().Contain("No virtual machines yet"));
    }

    [Fact]
    public async Task Lists_machines_with_resources_and_state_and_filters_by_name_or_description()
    {
        await CreateVmAsync("web-1", vcpus: 2, memoryMiB: 1024, description: "front end");
        var db = await CreateVmAsync("db-1", vcpus: 4, memoryMiB: 4096);
        Runtime.SetState(db.Id, VmPowerState.Running);

        var page = Render<VmList>();
        page.WaitForAssertion(() => page.FindAll(Rows).Should().HaveCount(2));
        var dbRow = page.FindAll(Rows).Single(r => r.TextContent.Contains("db-1", StringComparison.Ordinal));
        dbRow.TextContent.Should().Contain("4096 MiB").And.Contain("running");

        page.Find("input").Input("FRONT");
        page.WaitForAssertion(() => page.FindAll(Rows).Should().ContainSingle().Which.TextContent.Should().Contain("web-1"));
    }

    [Fact]
    public async Task The_list_reads_its_own_columns_in_one_query_not_each_vms_disks_nics_and_images()
    {
        // Two VMs with disks and NICs: the graph the old list loaded (disks, NICs, images, as split queries) has rows here.
        await using (var db = await Db.Factory.CreateDbContextAsync(Ct))
        {
            db.VirtualMachines.Add(new VirtualMachine
            {
                Name = "graph-1", KernelPath = "/boot/vmlinuz",
                Disks = [new VmDisk { Position = 0, Path = "/srv/a.img" }, new VmDisk { Position = 1, Path = "/srv/b.img" }],
                Nics = [new VmNic { Position = 0, TapName = "tap-g1", MacAddress = "52:54:00:12:34:56" }],
            });
            db.VirtualMachines.Add(new VirtualMachine { Name = "graph-2", KernelPath = "/boot/vmlinuz", Disks = [new VmDisk { Position = 0, Path = "/srv/c.img" }] });
            await db.SaveChangesAsync(Ct);
        }

        Db.Commands.Clear();
        var page = Render<VmList>();
        page.WaitForAssertion(() => page.FindAll(Rows).Should().HaveCount(2));

        // The disk column still counts each VM's disks.
        page.FindAll(Rows).Select(r => r.QuerySelector("[data-label=Disks]")?.TextContent.Trim()).Should().Equal("2", "1");
        var queries = Db.Commands.Readers.Where(sql => sql.Contains("\"VirtualMachines\"", StringComparison.Ordinal)).ToList();
        queries.Should().ContainSingle("the list is one query, not one per included collection");
        string sql = queries[0];
        foreach (string table in new[] { "VmNics", "Images", "VmCloudInits" })
        {
            sql.Should().NotContain($"\"{table}\"", "the list shows nothing of a VM's {0}", table);
        }

        // The disks are counted in the database, none of their rows read (no disk column is selected).
        sql.Should().Contain("COUNT(*)").And.NotContain("\"Path\"").And.NotContain("\"CommandLine\"");
    }

    [Fact]
    public async Task A_state_change_from_the_runtime_shows_without_reload_and_changes_the_actions()
    {
        var vm = await CreateVmAsync("live-1");
        var page = Render<VmList>();
        page.WaitForAssertion(() => page.Find("[data-testid=vm-state]").TextContent.Should().Contain("stopped"));
        page.FindAll("button[aria-label='Start live-1']").Should().ContainSingle();

        Runtime.Raise(vm.Id, VmPowerState.Running, "started elsewhere");

        page.WaitForAssertion(() => page.Find("[data-testid=vm-state]").TextContent.Should().Contain("running"));
        page.FindAll("button[aria-label='Start live-1']").Should().BeEmpty();
        page.FindAll("button[aria-label='Shut down live-1']").Should().ContainSingle();
    }

    [Fact]
    public async Task A_vm_waiting_to_be_restarted_after_a_crash_can_be_started_now_or_stopped()
    {
        var vm = await CreateVmAsync("phoenix-1");
        var page = Render<VmList>();
        page.WaitForAssertion(() => page.Find("[data-testid=vm-state]").TextContent.Should().Contain("stopped"));

        Runtime.Raise(vm.Id, VmPowerState.Restarting, "the VMM was killed by signal 9; restarting in 1 s");

        page.WaitForAssertion(() => page.Find("[data-testid=vm-state]").TextContent.Should().Contain("restarting"));
        page.FindAll("button[aria-label='Start phoenix-1']").Should().ContainSingle("start it now instead of after the pause");
        page.FindAll("button[aria-label='Stop phoenix-1']").Should().ContainSingle("stop cancels the restart");
    }

    [Fact]
    public async Task Quick_start_calls_the_runtime_shows_progress_then_the_outcome()
    {
        var vm = await CreateVmAsync("quick-1");
        Runtime.Gate = new TaskCompletionSource();
        var page = Render<VmList>();
        page.WaitForAssertion(() => page.FindAll("button[aria-label='Start quick-1']").Should().ContainSingle());

        var click = page.Find("button[aria-label='Start quick-1']").ClickAsync(new());
        page.WaitForAssertion(() => page.FindAll("[aria-label='Start in progress']").Should().ContainSingle());
        Runtime.Gate.SetResult();
        await click;

        Runtime.Calls.Should().Equal(("start", vm.Id));
        page.WaitForAssertion(() => page.Find("[data-testid=vm-state]").TextContent.Should().Contain("running"));
        page.FindAll("[aria-label='Start in progress']").Should().BeEmpty();
        Snackbars.Should().Contain("Start quick-1: done.");
    }

    [Fact]
    public async Task A_failed_action_says_why()
    {
        await CreateVmAsync("fail-1");
        Runtime.NextFailure = new VmRuntimeException("The VM supervisor is not running") { Unavailable = true };
        var page = Render<VmList>();
        page.WaitForAssertion(() => page.FindAll("button[aria-label='Start fail-1']").Should().ContainSingle());

        await page.Find("button[aria-label='Start fail-1']").ClickAsync(new());

        Snackbars.Should().Contain("Start fail-1 failed: The VM supervisor is not running");
        page.Find("[data-testid=vm-state]").TextContent.Should().Contain("stopped");
    }

    [Fact]
    public async Task Leaving_the_page_ends_its_subscription()
    {
        await CreateVmAsync("sub-1");
        var page = Render<VmList>();
        page.WaitForAssertion(() => Runtime.SubscriberCount.Should().Be(1));
        await DisposeComponentsAsync();
        Runtime.SubscriberCount.Should().Be(0);
    }
}
