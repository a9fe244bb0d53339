using Bunit;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Components.Admin;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Components.Admin;

// The administrators' quota page: every user and group with its use against its quota, a form that checks each field,
// saves through the audited path and shows the service's refusals, and removal.
public sealed class QuotaAdminPageTests : DashboardTestContext
{
    private static void Type(IRenderedComponent<QuotaAdminPage> page, string field, string value) =>
        page.Find($"[data-testid=quota-field-{field}] input, input[data-testid=quota-field-{field}]").Input(value);

    private async Task<Guid> AddGroupAsync(string name, params string[] members)
    {
        await using var db = await Db.Factory.CreateDbContextAsync(Ct);
        var group = new AccessGroup { Name = name };
        group.Members.AddRange(members.Select(m => new AccessGroupMember { UserId = m }));
        db.AccessGroups.Add(group);
        await db.SaveChangesAsync(Ct);
        return group.Id;
    }

    private async Task<IReadOnlyList<AuditEntry>> AuditOfAsync(string action) =>
        (await Db.Audit.ListAsync(new AuditQuery { Action = action }, Ct)).Items;

    [Fact]
    public async Task Every_user_and_group_shows_its_use_against_its_quota()
    {
        string alice = Db.AddUser("alice-q", (BuiltInRoles.VmAdminId, null));
        await AddGroupAsync("ops-q", alice);
        (await Db.Vms.CreateAsync(new VmDefinitionInput { Name = "alices", MemoryMiB = 768, VcpuCount = 2, KernelPath = "/boot/vmlinuz" }, Ct, ownerId: alice)).Succeeded.Should().BeTrue();
        (await Db.Quotas.SetAsync(new ResourceQuota { UserId = alice, MaxVms = 1, MaxMemoryMiB = 1024 }, Ct)).Succeeded.Should().BeTrue();

        var page = Render<QuotaAdminPage>();

        page.WaitForAssertion(() => page.Find("[data-testid=quota-vms-alice-q]").TextContent.Should().Be("1 of 1 · full"));
        page.Find("[data-testid=quota-memory-alice-q]").TextContent.Should().Be("768 MiB of 1 GiB");
        page.Find("[data-testid=quota-memory-ops-q]").TextContent.Should().Be("768 MiB (no limit)", "a group's use is its members' and it has no quota");
        page.Find("[data-testid=quota-vms-admin]").TextContent.Should().Be("0 (no limit)");
        page.Find("[data-testid=quota-list]").TextContent.Should().Contain("group ops-q");
    }

    [Fact]
    public async Task A_quota_set_on_the_page_is_saved_audited_and_shown()
    {
        Guid ops = await AddGroupAsync("ops-set");
        var page = Render<QuotaAdminPage>();
        await page.Find("[data-testid=quota-edit-ops-set]").ClickAsync(new());
        Type(page, "maxVcpus", "8");
        Type(page, "maxMemoryMiB", "0.5");
        Type(page, "maxDiskBytes", "100");
        await page.Find("[data-testid=quota-save]").ClickAsync(new());

        page.WaitForAssertion(() => page.FindAll("[data-testid=quota-form]").Should().BeEmpty("the form closes once saved"));
        var quota = (await Db.Quotas.ListAsync(Ct)).Single(q => q.Quota.GroupId == ops).Quota;
        (quota.MaxVms, quota.MaxVcpus, quota.MaxMemoryMiB, quota.MaxDiskBytes, quota.MaxImageBytes).Should().Be(((int?)null, (int?)8, (long?)512, (long?)(100L << 30), (long?)null));
        page.Find("[data-testid=quota-memory-ops-set]").TextContent.Should().Be("0 bytes of 512 MiB");
        var entry = (await AuditOfAsync(AuditActions.QuotaSet)).Should().ContainSingle().Which;
        (entry.UserId, entry.Result, entry.Target).Should().Be((Db.AdminId, AuditResult.Succeeded, $"group {ops}"));
        entry.Detail.Should().Be("VMs none, vCPUs 8, memory 512 MiB, disk 107374182400 B, images none");
        Snackbars.Should().Contain("The quota of ops-set is set.");
    }

    [Fact]
    public async Task Fields_that_are_not_maximums_are_refused_each_with_its_reason_and_nothing_is_saved()
    {
        var page = Render<QuotaAdminPage>();
        await page.Find("[data-testid=quota-edit-admin]").ClickAsync(new());
        Type(page, "maxVms", "-1");
        Type(page, "maxVcpus", "two");
        Type(page, "maxImageBytes", "1,5");
        await page.Find("[data-testid=quota-save]").ClickAsync(new());

        page.WaitForAssertion(() => page.Markup.Should().Contain("A whole number, 0 or more (or empty for no limit); got \"-1\".")
            .And.Contain("got \"two\"").And.Contain("A size in GiB, 0 or more (0.5 is 512 MiB; empty for no limit); got \"1,5\"."));
        (await Db.Quotas.ListAsync(Ct)).Should().BeEmpty();
        (await AuditOfAsync(AuditActions.QuotaSet)).Should().BeEmpty("nothing reached the service");
    }

    [Fact]
    public async Task Removing_a_quota_lifts_it_and_is_audited()
    {
        string bob = Db.AddUser("bob-q", (BuiltInRoles.VmUserId, null));
        (await Db.Quotas.SetAsync(new ResourceQuota { UserId = bob, MaxVms = 2 }, Ct)).Succeeded.Should().BeTrue();
        var page = Render<QuotaAdminPage>();
        page.WaitForAssertion(() => page.Find("[data-testid=quota-vms-bob-q]").TextContent.Should().Be("0 of 2"));

        await page.Find("[data-testid=quota-remove-bob-q]").ClickAsync(new());

        page.WaitForAssertion(() => page.Find("[data-testid=quota-vms-bob-q]").TextContent.Should().Be("0 (no limit)"));
        (await Db.Quotas.ListAsync(Ct)).Should().BeEmpty();
        (await AuditOfAsync(AuditActions.QuotaRemove)).Should().ContainSingle().Which.Target.Should().Be($"user {bob}");
    }

    [Fact]
    public async Task A_user_who_lost_user_manage_while_the_page_was_open_is_refused_and_the_refusal_audited()
    {
        string carol = Db.AddUser("carol-q", (BuiltInRoles.AdministratorId, null));
        ActAs(carol, "carol-q");
        var page = Render<QuotaAdminPage>();
        await page.Find("[data-testid=quota-edit-carol-q]").ClickAsync(new());
        Type(page, "maxVms", "3");
        await using (var db = await Db.Factory.CreateDbContextAsync(Ct))
        {
            await db.AccessGrants.Where(g => g.UserId == carol).ExecuteDeleteAsync(Ct);
        }

        Db.Permissions.Invalidate();

        await page.Find("[data-testid=quota-save]").ClickAsync(new());

        page.WaitForAssertion(() => Snackbars.Should().Contain("You no longer have User.Manage."));
        (await Db.Quotas.ListAsync(Ct)).Should().BeEmpty();
        (await AuditOfAsync(AuditActions.QuotaSet)).Should().ContainSingle().Which.Result.Should().Be(AuditResult.Denied);
    }
}
