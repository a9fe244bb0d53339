using Bunit;
using MudBlazor;
using Platform.Web.Components.Pages;
using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.Web.Tests.Components.Pages;

public sealed class AuditPageTests : DashboardTestContext
{
    [Fact]
    public async Task Ids_read_as_names_and_the_ids_stay_in_a_tooltip()
    {
        var vm = await CreateVmAsync("audit-named");
        string userId = Db.AddUser("alice-audit", (BuiltInRoles.VmUserId, null));
        string target = $"role {BuiltInRoles.VmUserId} to user {userId}";
        await Db.Audit.AddAsync(new AuditActor(Db.AdminId, "admin", null), AuditActions.Power("Start"), AuditResult.Succeeded, vm.Id, target);

        var page = Render<Platform.Web.Components.Pages.AuditPage>();

        page.WaitForAssertion(() => page.Find("[data-testid=audit-target]").TextContent.Should().Be("role VMUser to user alice-audit"));
        page.Find("[data-testid=audit-target]").GetAttribute("title").Should().Be(target, "the ids are kept for whoever needs them");
        page.Find($"a[href='vms/{vm.Id}']").TextContent.Trim().Should().Be("audit-named");
        page.Find($"a[href='vms/{vm.Id}']").GetAttribute("title").Should().Be(vm.Id.ToString());
    }

    [Fact]
    public async Task Entries_about_a_vm_the_reader_may_not_see_are_left_out()
    {
        var seen = await CreateVmAsync("audit-seen");
        var hidden = await CreateVmAsync("audit-hidden");
        await Db.Audit.AddAsync(new AuditActor(Db.AdminId, "admin", null), AuditActions.Power("Start"), AuditResult.Succeeded, seen.Id);
        await Db.Audit.AddAsync(new AuditActor(Db.AdminId, "admin", null), AuditActions.Power("Start"), AuditResult.Succeeded, hidden.Id);
        ActAs(Db.AddUser("audit-reader", (BuiltInRoles.AuditorId, null), (BuiltInRoles.NoAccessId, hidden.Id)), "audit-reader");

        var page = Render<Platform.Web.Components.Pages.AuditPage>();

        page.WaitForAssertion(() => page.Markup.Should().Contain($"vms/{seen.Id}"));
        page.Markup.Should().NotContain(hidden.Id.ToString());
    }

    [Fact]
    public async Task An_open_page_reads_nothing_more_once_sys_audit_is_revoked()
    {
        var vm = await CreateVmAsync("audit-revoked");
        string userId = Db.AddUser("audit-revoked-reader", (BuiltInRoles.AuditorId, null));
        ActAs(userId, "audit-revoked-reader");
        var page = Render<Platform.Web.Components.Pages.AuditPage>();
        await Db.Audit.AddAsync(new AuditActor(Db.AdminId, "admin", null), AuditActions.Power("Start"), AuditResult.Succeeded, vm.Id);
        var table = page.FindComponent<MudTable<AuditEntry>>();
        await page.InvokeAsync(() => table.Instance.ReloadServerData());
        page.WaitForAssertion(() => page.Markup.Should().Contain($"vms/{vm.Id}"));

        await using (var db = await Db.Factory.CreateDbContextAsync(Ct))
        {
            db.AccessGrants.RemoveRange(db.AccessGrants.Where(g => g.UserId == userId));
            await db.SaveChangesAsync(Ct);
        }

        Db.Permissions.Invalidate();
        await page.InvokeAsync(() => table.Instance.ReloadServerData());

        page.WaitForAssertion(() => page.Markup.Should().NotContain($"vms/{vm.Id}"));
    }
}
