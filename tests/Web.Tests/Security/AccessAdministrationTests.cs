using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>
/// The administration API (users, groups, roles, grants) on the real app and database: what it changes is what the
/// permission service then answers, each change is audited once, bad input is a clear problem, and no change may
/// leave the dashboard without someone who can manage users. The factory's first administrator is the only one at
/// the start of every test here (tests that make another take it away again).
/// </summary>
public sealed class AccessAdministrationTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private const string NewPassword = "a-password-someone-chose-9";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_user_made_through_the_api_gets_access_through_a_group_and_a_custom_role()
    {
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, "admin-api-vm");
        var other = await CreateVmAsync(admin, "admin-api-other");

        var user = await CreatedAsync<UserResponse>(await admin.PostAsJsonAsync("/api/v1/users",
            new CreateUserRequest("carol", NewPassword), ApiJson.Options, Ct));
        user.MustChangePassword.Should().BeTrue("someone else chose the password");
        var group = await CreatedAsync<GroupResponse>(await admin.PostAsJsonAsync("/api/v1/groups",
            new CreateGroupRequest("operators", "people at the consoles"), ApiJson.Options, Ct));
        var role = await CreatedAsync<RoleResponse>(await admin.PostAsJsonAsync("/api/v1/roles",
            new SaveRoleRequest("Watcher", ["VM.Audit", "VM.Console"], null), ApiJson.Options, Ct));
        role.Privileges.Should().BeEquivalentTo("VM.Audit", "VM.Console");
        (await admin.PutAsync($"/api/v1/groups/{group.Id}/members/{user.Id}", null, Ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var grant = await CreatedAsync<GrantResponse>(await admin.PostAsJsonAsync("/api/v1/grants",
            new CreateGrantRequest(null, group.Id, vm.Id, role.Id), ApiJson.Options, Ct));
        grant.Should().BeEquivalentTo(new { Subject = "operators", ToGroup = true, Path = $"/vms/{vm.Id}", VmName = vm.Name, Role = "Watcher" });

        // She must change the password first: until then she may do nothing.
        (await AccessOfAsync(user.Id)).IsActive.Should().BeFalse();
        await ChangePasswordAsync("carol", NewPassword, "carols-own-password-42");
        var access = await AccessOfAsync(user.Id);
        access.Has(Privileges.VmConsole, vm.Id).Should().BeTrue();
        access.Has(Privileges.VmPowerMgmt, vm.Id).Should().BeFalse("the role does not have it");
        access.CanSee(other.Id).Should().BeFalse("the grant is on one VM");

        (await admin.DeleteAsync($"/api/v1/groups/{group.Id}/members/{user.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await AccessOfAsync(user.Id)).CanSee(vm.Id).Should().BeFalse("leaving the group takes its grants away");

        var users = await admin.GetFromJsonAsync<List<UserResponse>>("/api/v1/users", ApiJson.Options, Ct);
        users.Should().Contain(u => u.UserName == "carol" && !u.MustChangePassword && u.Groups.Count == 0);

        // One entry per change, written by the service (not a second by the API's filter).
        var audit = await admin.GetFromJsonAsync<AuditPageResponse>("/api/v1/audit?action=Group.&take=200", ApiJson.Options, Ct);
        audit!.Items.Where(e => e.Target == "group operators").Should().ContainSingle(e => e.Action == AuditActions.GroupCreate && e.Result == AuditResult.Succeeded);
        var requests = await admin.GetFromJsonAsync<AuditPageResponse>("/api/v1/audit?action=Api.Request&take=500", ApiJson.Options, Ct);
        requests!.Items.Should().NotContain(e => e.Detail != null && e.Detail.Contains("/api/v1/groups", StringComparison.Ordinal));

        await admin.DeleteAsync($"/api/v1/grants/{grant.Id}", Ct);
        (await admin.DeleteAsync($"/api/v1/users/{user.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_reset_password_is_generated_once_and_must_be_changed()
    {
        using var admin = factory.CreateClient();
        var user = await CreatedAsync<UserResponse>(await admin.PostAsJsonAsync("/api/v1/users",
            new CreateUserRequest("dave", NewPassword), ApiJson.Options, Ct));
        await ChangePasswordAsync("dave", NewPassword, "daves-own-password-42");

        var reset = await admin.PostAsJsonAsync($"/api/v1/users/{user.Id}/password", new ResetPasswordRequest(null), ApiJson.Options, Ct);
        reset.StatusCode.Should().Be(HttpStatusCode.OK);
        string oneTime = (await reset.ReadAsync<ResetPasswordResponse>())!.Password;
        oneTime.Should().HaveLength(20);

        var (browser, _) = TestAccounts.CreateBrowser(factory);
        using var __ = browser;
        (await TestAccounts.PostSignInAsync(browser, "dave", "daves-own-password-42")).StatusCode.Should().Be(HttpStatusCode.OK, "the old password is gone");
        await ChangePasswordAsync("dave", oneTime, "daves-next-password-43");

        var audit = await admin.GetFromJsonAsync<AuditPageResponse>($"/api/v1/audit?action={AuditActions.UserResetPassword}", ApiJson.Options, Ct);
        audit!.Items.Should().Contain(e => e.Target == "user dave" && e.Result == AuditResult.Succeeded);
        audit.Items.Should().NotContain(e => (e.Detail ?? "").Contains(oneTime, StringComparison.Ordinal), "a password is never logged");
        await admin.DeleteAsync($"/api/v1/users/{user.Id}", Ct);
    }

    [Fact]
    public async Task Bad_requests_get_clear_problems_and_change_nothing()
    {
        using var admin = factory.CreateClient();
        var unknownPrivilege = await admin.PostAsJsonAsync("/api/v1/roles", new SaveRoleRequest("Odd", ["VM.Fly"], null), ApiJson.Options, Ct);
        unknownPrivilege.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await unknownPrivilege.Content.ReadAsStringAsync(Ct)).Should().Contain("privileges");

        var builtIn = await admin.PutAsJsonAsync($"/api/v1/roles/{BuiltInRoles.VmUserId}", new SaveRoleRequest("VMUser", ["VM.Audit"], null), ApiJson.Options, Ct);
        builtIn.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await builtIn.Content.ReadAsStringAsync(Ct)).Should().Contain("Built-in roles cannot be changed");

        var nobody = await admin.PostAsJsonAsync("/api/v1/grants", new CreateGrantRequest("no-such-user", null, null, BuiltInRoles.VmUserId), ApiJson.Options, Ct);
        nobody.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await nobody.Content.ReadAsStringAsync(Ct)).Should().Contain("There is no such user.");

        var both = await admin.PostAsJsonAsync("/api/v1/grants", new CreateGrantRequest(await TestAccounts.AdminIdAsync(factory.Services), Guid.NewGuid(), null, BuiltInRoles.VmUserId), ApiJson.Options, Ct);
        both.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await both.Content.ReadAsStringAsync(Ct)).Should().Contain("Choose a user or a group.");

        var weak = await admin.PostAsJsonAsync("/api/v1/users", new CreateUserRequest("eve", "short"), ApiJson.Options, Ct);
        weak.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await weak.Content.ReadAsStringAsync(Ct)).Should().Contain("Passwords must be at least");

        (await admin.PostAsJsonAsync("/api/v1/groups", new CreateGroupRequest("twins", null), ApiJson.Options, Ct)).StatusCode.Should().Be(HttpStatusCode.Created);
        var twin = await admin.PostAsJsonAsync("/api/v1/groups", new CreateGroupRequest("twins", null), ApiJson.Options, Ct);
        twin.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await twin.Content.ReadAsStringAsync(Ct)).Should().Contain("exists already");

        (await admin.DeleteAsync($"/api/v1/users/{Guid.NewGuid()}", Ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await admin.DeleteAsync($"/api/v1/grants/{Guid.NewGuid()}", Ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var users = await admin.GetFromJsonAsync<List<UserResponse>>("/api/v1/users", ApiJson.Options, Ct);
        users.Should().NotContain(u => u.UserName == "eve");
    }

    [Fact]
    public async Task Nothing_removes_the_last_administrator()
    {
        using var admin = factory.CreateClient();
        string adminId = await TestAccounts.AdminIdAsync(factory.Services);
        var own = (await GrantsAsync(admin)).Single(g => g.Subject == TestAccounts.AdminName && g.Path == "/");

        // Her own grant is the only way anyone manages users.
        await RefusedAsLastAsync(await admin.DeleteAsync($"/api/v1/grants/{own.Id}", Ct));

        // Through a group as well, her own grant can go; then the group, her membership, and the group's grant cannot.
        var group = await CreatedAsync<GroupResponse>(await admin.PostAsJsonAsync("/api/v1/groups", new CreateGroupRequest("admins", null), ApiJson.Options, Ct));
        await admin.PutAsync($"/api/v1/groups/{group.Id}/members/{adminId}", null, Ct);
        var groupGrant = await CreatedAsync<GrantResponse>(await admin.PostAsJsonAsync("/api/v1/grants",
            new CreateGrantRequest(null, group.Id, null, BuiltInRoles.AdministratorId), ApiJson.Options, Ct));
        (await admin.DeleteAsync($"/api/v1/grants/{own.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await RefusedAsLastAsync(await admin.DeleteAsync($"/api/v1/groups/{group.Id}", Ct));
        await RefusedAsLastAsync(await admin.DeleteAsync($"/api/v1/groups/{group.Id}/members/{adminId}", Ct));
        await RefusedAsLastAsync(await admin.DeleteAsync($"/api/v1/grants/{groupGrant.Id}", Ct));

        // A custom role that is the only source of User.Manage cannot lose it.
        var keeper = await CreatedAsync<RoleResponse>(await admin.PostAsJsonAsync("/api/v1/roles",
            new SaveRoleRequest("Keeper", ["User.Manage"], null), ApiJson.Options, Ct));
        var keeperGrant = await CreatedAsync<GrantResponse>(await admin.PostAsJsonAsync("/api/v1/grants",
            new CreateGrantRequest(adminId, null, null, keeper.Id), ApiJson.Options, Ct));
        (await AccessOfAsync(adminId)).Has(Privileges.UserManage).Should().BeTrue();
        await RefusedAsLastAsync(await admin.PutAsJsonAsync($"/api/v1/roles/{keeper.Id}", new SaveRoleRequest("Keeper", ["Sys.Audit"], null), ApiJson.Options, Ct));

        // A disabled administrator does not count.
        var deputy = await CreatedAsync<UserResponse>(await admin.PostAsJsonAsync("/api/v1/users", new CreateUserRequest("deputy", NewPassword), ApiJson.Options, Ct));
        var deputyGrant = await CreatedAsync<GrantResponse>(await admin.PostAsJsonAsync("/api/v1/grants",
            new CreateGrantRequest(deputy.Id, null, null, BuiltInRoles.AdministratorId), ApiJson.Options, Ct));
        (await admin.PatchAsJsonAsync($"/api/v1/users/{deputy.Id}", new UpdateUserRequest(Disabled: true), ApiJson.Options, Ct)).StatusCode
            .Should().Be(HttpStatusCode.NoContent, "the admin is still there");
        (await admin.DeleteAsync($"/api/v1/grants/{keeperGrant.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.NoContent, "the group still makes her one");
        await RefusedAsLastAsync(await admin.DeleteAsync($"/api/v1/grants/{groupGrant.Id}", Ct));

        // Put everything back.
        (await admin.PostAsJsonAsync("/api/v1/grants", new CreateGrantRequest(adminId, null, null, BuiltInRoles.AdministratorId), ApiJson.Options, Ct))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await admin.DeleteAsync($"/api/v1/groups/{group.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await admin.DeleteAsync($"/api/v1/roles/{keeper.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await admin.DeleteAsync($"/api/v1/grants/{deputyGrant.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await admin.DeleteAsync($"/api/v1/users/{deputy.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await AccessOfAsync(adminId)).Has(Privileges.All).Should().BeTrue();

        var audit = await admin.GetFromJsonAsync<AuditPageResponse>($"/api/v1/audit?result={AuditResult.Failed}&take=100", ApiJson.Options, Ct);
        audit!.Items.Should().Contain(e => e.Action == AuditActions.GrantRemove && (e.Detail ?? "").Contains("no active user with User.Manage", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Only_user_managers_reach_the_administration_api()
    {
        await TestAccounts.CreateUserAsync(factory.Services, "auditor-admin-api", (BuiltInRoles.AuditorId, null));
        var (browser, _) = await TestAccounts.SignInAsync(factory, "auditor-admin-api");
        using var _ = browser;
        foreach (string path in new[] { "/api/v1/users", "/api/v1/groups", "/api/v1/roles", "/api/v1/grants" })
        {
            (await browser.GetAsync(path, Ct)).StatusCode.Should().Be(HttpStatusCode.Forbidden, $"an Auditor may not list {path}");
        }

        // A token cut down to what it needs may manage users; one without User.Manage may not, whatever its owner has.
        string adminId = await TestAccounts.AdminIdAsync(factory.Services);
        using var scoped = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, adminId, Privileges.VmAudit | Privileges.SysAudit));
        (await scoped.GetAsync("/api/v1/users", Ct)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        using var manager = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, adminId, Privileges.UserManage));
        (await manager.GetAsync("/api/v1/users", Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Disabling_a_user_stops_their_tokens_at_once_and_their_session_within_seconds()
    {
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "soon-disabled", (BuiltInRoles.VmUserId, null));
        using var token = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId, Privileges.VmAudit));
        var (browser, _) = await TestAccounts.SignInAsync(factory, "soon-disabled");
        using var _ = browser;
        (await token.GetAsync("/api/v1/vms", Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await browser.GetAsync("/api/v1/vms", Ct)).StatusCode.Should().Be(HttpStatusCode.OK);

        using var admin = factory.CreateClient();
        (await admin.PatchAsJsonAsync($"/api/v1/users/{userId}", new UpdateUserRequest(Disabled: true), ApiJson.Options, Ct)).StatusCode
            .Should().Be(HttpStatusCode.NoContent);

        (await token.GetAsync("/api/v1/vms", Ct)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a disabled user's tokens stop at once");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await browser.GetAsync("/api/v1/vms", Ct)).StatusCode != HttpStatusCode.Unauthorized)
        {
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the session's cookie is checked again every second here");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task Refused_changes_to_users_are_audited_too()
    {
        using var admin = factory.CreateClient();
        string adminId = await TestAccounts.AdminIdAsync(factory.Services);

        (await admin.PatchAsJsonAsync($"/api/v1/users/{adminId}", new UpdateUserRequest(Disabled: true), ApiJson.Options, Ct)).StatusCode
            .Should().Be(HttpStatusCode.Conflict);
        (await admin.DeleteAsync($"/api/v1/users/{adminId}", Ct)).StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await admin.DeleteAsync("/api/v1/users/no-such-user", Ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await admin.PostAsJsonAsync("/api/v1/users/no-such-user/password", new ResetPasswordRequest(null), ApiJson.Options, Ct)).StatusCode
            .Should().Be(HttpStatusCode.NotFound);

        var audit = await admin.GetFromJsonAsync<AuditPageResponse>($"/api/v1/audit?action=User.&result={AuditResult.Failed}&take=100", ApiJson.Options, Ct);
        var details = audit!.Items.Select(e => (e.Action, e.Detail)).ToList();
        details.Should().Contain((AuditActions.UserUpdate, "You cannot disable yourself."))
            .And.Contain((AuditActions.UserDelete, "You cannot delete yourself."))
            .And.Contain((AuditActions.UserDelete, "There is no such user."))
            .And.Contain((AuditActions.UserResetPassword, "There is no such user."));
    }

    // ---- helpers

    private static async Task RefusedAsLastAsync(HttpResponseMessage response)
    {
        response.StatusCode.Should().Be(HttpStatusCode.Conflict, "the change would leave nobody who can manage users");
        (await response.Content.ReadAsStringAsync(Ct)).Should().Contain("no active user with User.Manage on /");
    }

    private async Task<UserAccess> AccessOfAsync(string userId) =>
        await factory.Services.GetRequiredService<IPermissionService>().GetAccessAsync(userId, Ct);

    private static async Task<List<GrantResponse>> GrantsAsync(HttpClient admin) =>
        (await admin.GetFromJsonAsync<List<GrantResponse>>("/api/v1/grants", ApiJson.Options, Ct))!;

    private static async Task<T> CreatedAsync<T>(HttpResponseMessage response)
    {
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return (await response.ReadAsync<T>())!;
    }

    private static async Task<VmResponse> CreateVmAsync(HttpClient admin, string name) =>
        await CreatedAsync<VmResponse>(await admin.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct));

    /// <summary>Signs in with <paramref name="password"/>, is sent to the change-password page, and changes it there.</summary>
    private async Task ChangePasswordAsync(string userName, string password, string newPassword)
    {
        var (browser, _) = TestAccounts.CreateBrowser(factory);
        using var _ = browser;
        (await TestAccounts.PostSignInAsync(browser, userName, password)).StatusCode.Should().Be(HttpStatusCode.Redirect);
        var page = await browser.GetAsync("/vms", Ct);
        page.StatusCode.Should().Be(HttpStatusCode.Redirect);
        page.Headers.Location!.ToString().Should().Contain(MustChangePasswordMiddleware.ChangePasswordPath, "a chosen password must be changed first");
        await TestAccounts.PostChangePasswordAsync(browser, password, newPassword, forced: true);
    }
}
