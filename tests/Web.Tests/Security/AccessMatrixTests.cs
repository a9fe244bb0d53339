using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Hubs;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>
/// Who may do what: every built-in role (granted on <c>/</c>) against every API action, the hub's methods and
/// pushes, the console WebSockets and the pages, on the real app and database. The tables below are the
/// specification; a change of a role or an endpoint's privilege shows here first.
/// </summary>
public sealed class AccessMatrixTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The roles in the order of the tables' columns.</summary>
    private static readonly (string Name, Guid Id)[] Roles =
    [
        (BuiltInRoles.Administrator, BuiltInRoles.AdministratorId),
        (BuiltInRoles.VmAdmin, BuiltInRoles.VmAdminId),
        (BuiltInRoles.VmUser, BuiltInRoles.VmUserId),
        (BuiltInRoles.Auditor, BuiltInRoles.AuditorId),
        (BuiltInRoles.NoAccess, BuiltInRoles.NoAccessId),
    ];

    // A: allowed. F: refused with 403. N: refused with 404, because the caller may not see the VM at all.
    // H: answered, but the VM is hidden from the answer.
    //                                            Administrator VMAdmin VMUser Auditor NoAccess
    private static readonly Dictionary<string, string> Api = new()
    {
        ["ListVms"] = /*                    */ "A A A A H",
        ["GetVm"] = /*                      */ "A A A A N",
        ["VmEvents"] = /*                   */ "A A A A N",
        ["CreateVm"] = /*                   */ "A A F F F",
        ["CreateVmWithHostPath"] = /*       */ "A F F F F",
        ["UpdateVm"] = /*                   */ "A A F F N",
        ["DeleteVm"] = /*                   */ "A A F F N",
        ["StartVm"] = /*                    */ "A A A F N",
        ["ShutdownVm"] = /*                 */ "A A A F N",
        ["StopVm"] = /*                     */ "A A A F N",
        ["PauseVm"] = /*                    */ "A A A F N",
        ["ResumeVm"] = /*                   */ "A A A F N",
        ["ResetVm"] = /*                    */ "A A A F N",
        ["AddVmDisk"] = /*                  */ "A A F F N",
        ["ResizeVmDisk"] = /*               */ "A A F F N",
        ["ListVmSnapshots"] = /*            */ "A A A A N",
        ["CreateVmSnapshot"] = /*           */ "A A F F N",
        ["RevertVmSnapshot"] = /*           */ "A A F F N",
        ["DeleteVmSnapshot"] = /*           */ "A A F F N",
        ["GetVmCloudInit"] = /*             */ "A A A A N",
        ["SetVmCloudInit"] = /*             */ "A A F F N",
        ["SetVmTemplate"] = /*              */ "A A F F N",
        ["CloneVm"] = /*                    */ "A A F F N",
        ["GetVmCloneJob"] = /*              */ "A A A A N",
        ["CancelVmCloneJob"] = /*           */ "A A F F N",
        // The CD-ROM's disc: VM.Config.CDROM (VMAdmin and VMUser, as Proxmox's PVEVMUser); inserting a library image
        // needs Image.Use too, which VMUser lacks.
        ["GetVmCdrom"] = /*                 */ "A A A A N",
        ["InsertVmCdrom"] = /*              */ "A A F F N",
        ["EjectVmCdrom"] = /*               */ "A A A F N",
        // A running VM's NIC cable: VM.Config, as editing the NIC (Proxmox's VM.Config.Network is not in PVEVMUser either).
        ["SetVmNicLink"] = /*               */ "A A F F N",
        ["ConsoleTicketByToken"] = /*       */ "F F F F N",
        ["ListEvents"] = /*                 */ "A A A A H",
        ["ListEventsOfVm"] = /*             */ "A A A A N",
        // The same log followed live (Accept: text/event-stream): open to everyone signed in, each entry filtered by
        // what the caller may see (EventStreamTests); one VM's stream is 404 for those who may not see it.
        ["StreamEvents"] = /*               */ "A A A A A",
        ["StreamEventsOfVm"] = /*           */ "A A A A N",
        ["ListImages"] = /*                 */ "A A F A F",
        ["GetImage"] = /*                   */ "A A F A F",
        ["UploadImage"] = /*                */ "A F F F F",
        ["DeleteImage"] = /*                */ "A F F F F",
        ["GetHost"] = /*                    */ "A F F A F",
        ["ListAudit"] = /*                  */ "A F F A F",
        ["ListAuditOfVm"] = /*              */ "A F F A F",
        // Tokens are each user's own: another user's (here the first administrator's) is neither listed nor revocable.
        ["ListTokens"] = /*                 */ "H H H H H",
        ["RevokeOthersToken"] = /*          */ "N N N N N",
        ["ListUsers"] = /*                  */ "A F F F F",
        ["CreateUser"] = /*                 */ "A F F F F",
        ["DisableUser"] = /*                */ "A F F F F",
        ["ResetPassword"] = /*              */ "A F F F F",
        ["DeleteUser"] = /*                 */ "A F F F F",
        ["ListGroups"] = /*                 */ "A F F F F",
        ["CreateGroup"] = /*                */ "A F F F F",
        ["AddGroupMember"] = /*             */ "A F F F F",
        ["DeleteGroup"] = /*                */ "A F F F F",
        ["ListRoles"] = /*                  */ "A F F F F",
        ["CreateRole"] = /*                 */ "A F F F F",
        ["UpdateRole"] = /*                 */ "A F F F F",
        ["DeleteRole"] = /*                 */ "A F F F F",
        ["ListGrants"] = /*                 */ "A F F F F",
        ["CreateGrant"] = /*                */ "A F F F F",
        ["DeleteGrant"] = /*                */ "A F F F F",
        // Quotas: administrators (User.Manage) set them; Sys.Audit sees them with their use, as on the Host page.
        ["ListQuotas"] = /*                 */ "A F F A F",
        ["SetUserQuota"] = /*               */ "A F F F F",
        ["SetGroupQuota"] = /*              */ "A F F F F",
        ["RemoveUserQuota"] = /*            */ "A F F F F",
        ["RemoveGroupQuota"] = /*           */ "A F F F F",
    };

    // The hub: A: the call succeeds, R: refused (HubException); Push: whether a WatchAll connection hears the VM.
    private static readonly Dictionary<string, string> Hub = new()
    {
        ["WatchAll"] = /*                   */ "A A A A A",
        ["Watch"] = /*                      */ "A A A A R",
        ["Push"] = /*                       */ "A A A A -",
    };

    // The console WebSockets and the ticket that opens them (with the session cookie and antiforgery token).
    private static readonly Dictionary<string, string> Console = new()
    {
        ["Ticket"] = /*                     */ "A A A F N",
        ["VncSocket"] = /*                  */ "A A A F N",
        ["SerialSocket"] = /*               */ "A A A F N",
    };

    // Pages, as the signed-in browser gets them: S: shown, -: not shown (hidden, refused or "no such VM").
    private static readonly Dictionary<string, string> Pages = new()
    {
        ["VmDetail"] = /*                   */ "S S S S -",
        ["PowerButtons"] = /*               */ "S S S - -",
        ["EditButton"] = /*                 */ "S S - - -",
        ["DeleteButton"] = /*               */ "S S - - -",
        ["ConsoleTab"] = /*                 */ "S S S - -",
        ["ScreenPage"] = /*                 */ "S S S - -",
        ["CdromInsertButton"] = /*          */ "S S - - -",
        ["CdromEjectButton"] = /*           */ "S S S - -",
        ["NewVmButton"] = /*                */ "S S - - -",
        ["HostPage"] = /*                   */ "S - - S -",
        ["AuditPage"] = /*                  */ "S - - S -",
        ["AdminPage"] = /*                  */ "S - - - -",
        // The quota page: User.Manage, as the quota endpoints that set them; its buttons check it again (QuotaAdminPageTests).
        ["QuotaPage"] = /*                  */ "S - - - -",
    };

    public static TheoryData<string, string> ApiRows => Rows(Api);

    public static TheoryData<string, string> HubRows => Rows(Hub);

    public static TheoryData<string, string> ConsoleRows => Rows(Console);

    public static TheoryData<string, string> PageRows => Rows(Pages);

    private static TheoryData<string, string> Rows(Dictionary<string, string> table)
    {
        var rows = new TheoryData<string, string>();
        foreach (string action in table.Keys)
        {
            foreach (var (name, _) in Roles)
            {
                rows.Add(name, action);
            }
        }

        return rows;
    }

    private static char Expected(Dictionary<string, string> table, string role, string action) =>
        table[action].Split(' ')[Array.FindIndex(Roles, r => r.Name == role)][0];

    [Theory]
    [MemberData(nameof(ApiRows))]
    public async Task Api_actions(string role, string action)
    {
        char expected = Expected(Api, role, action);
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, $"m-{role}-{action}");
        using var client = factory.CreateClient().WithToken(await TokenForAsync(role, action));

        var response = await SendAsync(client, admin, action, vm);

        var allowed = AllowedStatus(action);
        bool tokens = action is "ListTokens" or "RevokeOthersToken";
        switch (expected)
        {
            case 'A':
                response.StatusCode.Should().Be(allowed, $"{role} may {action}");
                if (action is "ListVms" or "ListEvents" or "ListEventsOfVm")
                {
                    (await response.Content.ReadAsStringAsync(Ct)).Should().Contain(vm.Id.ToString());
                }

                break;
            case 'H':
                response.StatusCode.Should().Be(HttpStatusCode.OK);
                string hidden = tokens ? (await AdminTokenIdAsync(admin)).ToString() : vm.Id.ToString();
                (await response.Content.ReadAsStringAsync(Ct)).Should().NotContain(hidden, $"{role} may not see it");
                break;
            case 'F':
                response.StatusCode.Should().Be(HttpStatusCode.Forbidden, $"{role} may not {action}");
                break;
            default:
                response.StatusCode.Should().Be(HttpStatusCode.NotFound, $"it does not exist for {role}");
                break;
        }

        if (expected is 'F' or 'N')
        {
            factory.Runtime.Calls.Should().NotContain(c => c.VmId == vm.Id, "a refused request never reaches the runtime");
            if (tokens)
            {
                // Not a refusal but "no such token of yours" (the service cannot tell the two apart): the token still works.
                (await admin.GetAsync("/api/v1/me", Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
            }
            else
            {
                await AuditSaysAsync(admin, role, AuditResult.Denied);
            }
        }
    }

    [Theory]
    [MemberData(nameof(HubRows))]
    public async Task Hub_methods_and_pushes(string role, string action)
    {
        char expected = Expected(Hub, role, action);
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, $"h-{role}-{action}");
        var (_, cookie) = await SignInAsAsync(role, action);
        await using var hub = TestAccounts.VmHubConnection(factory, cookie);
        var heard = new ConcurrentQueue<VmStateChanged>();
        hub.On<VmStateChanged>("StateChanged", heard.Enqueue);
        await hub.StartAsync(Ct);

        switch (action)
        {
            case "WatchAll" or "Watch":
                Func<Task> call = action == "WatchAll" ? () => hub.InvokeAsync("WatchAll", Ct) : () => hub.InvokeAsync("Watch", vm.Id, Ct);
                if (expected == 'A')
                {
                    await call.Should().NotThrowAsync();
                }
                else
                {
                    // A VM-scoped method says the VM does not exist; a method on / names the privilege it needs.
                    (await call.Should().ThrowAsync<HubException>()).Which.Message.Should()
                        .Contain(action == "Watch" ? "no VM with that id" : "You need");
                    await AuditSaysAsync(admin, role, AuditResult.Denied);
                }

                break;
            default:
                await hub.InvokeAsync("WatchAll", Ct);
                if (expected == 'A')
                {
                    factory.Runtime.Raise(vm.Id, VmPowerState.Running);
                    await WaitUntilAsync(() => heard.Any(h => h.VmId == vm.Id));
                }
                else
                {
                    await NothingHeardOfAsync(vm, heard, role, action);
                }

                break;
        }
    }

    /// <summary>
    /// Raises <paramref name="vm"/>'s state change and proves it did not reach the user's connection without sleeping:
    /// an observer that may see every VM hears it (so the notifier has sent it to whoever it chose), then a marker VM the
    /// user is granted hears its own change on the same connection, after it, as HubRevocationTests does.
    /// </summary>
    private async Task NothingHeardOfAsync(VmResponse vm, ConcurrentQueue<VmStateChanged> heard, string role, string action)
    {
        using var admin = factory.CreateClient();
        var marker = await CreateVmAsync(admin, $"{vm.Name}-marker");
        await TestAccounts.GrantAsync(factory.Services, (await UserIdAsync(role, action))!, (BuiltInRoles.AuditorId, marker.Id));
        string observerName = $"{role}-{action}-observer".ToLowerInvariant();
        await TestAccounts.CreateUserAsync(factory.Services, observerName, (BuiltInRoles.AuditorId, null));
        var (_, observerCookie) = await TestAccounts.SignInAsync(factory, observerName);
        await using var observer = TestAccounts.VmHubConnection(factory, observerCookie);
        var observed = new ConcurrentQueue<Guid>();
        observer.On<VmStateChanged>("StateChanged", change => observed.Enqueue(change.VmId));
        await observer.StartAsync(Ct);
        await observer.InvokeAsync("WatchAll", Ct);

        // One send goes to all its recipients at once, so once the observer has it, a wrong copy to the user is on its
        // way, ahead of the marker's on that connection.
        factory.Runtime.Raise(vm.Id, VmPowerState.Running);
        await WaitUntilAsync(() => observed.Contains(vm.Id));
        factory.Runtime.Raise(marker.Id, VmPowerState.Running);
        await WaitUntilAsync(() => heard.Any(h => h.VmId == marker.Id));
        heard.Should().NotContain(h => h.VmId == vm.Id, $"{role} may not see the VM, so hears nothing of it");
    }

    [Theory]
    [MemberData(nameof(ConsoleRows))]
    public async Task Console_tickets_and_websockets(string role, string action)
    {
        char expected = Expected(Console, role, action);
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, $"c-{role}-{action}");
        var (browser, cookie) = await SignInAsAsync(role, action);
        using var _ = browser;
        var kind = action == "SerialSocket" ? ConsoleKind.Serial : ConsoleKind.Vnc;

        if (action == "Ticket")
        {
            var response = await PostTicketAsync(browser, vm.Id, kind);
            response.StatusCode.Should().Be(expected switch
            {
                'A' => HttpStatusCode.OK,
                'F' => HttpStatusCode.Forbidden,
                _ => HttpStatusCode.NotFound,
            });
            return;
        }

        // A ticket issued for this user (even one who could not get it through the page) and the session cookie: only
        // VM.Console, checked again at connect, opens the socket. A VM that is not running answers 409 past the checks.
        string userId = (await UserIdAsync(role, action))!;
        var socket = TestAccounts.ConsoleClient(factory, cookie);
        var open = async () => await socket.ConnectAsync(TestAccounts.ConsoleUri(factory, userId, vm.Id, kind), Ct);
        (await open.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain(expected switch
        {
            'A' => "409",
            'F' => "403",
            _ => "404",
        });
    }

    [Theory]
    [MemberData(nameof(PageRows))]
    public async Task Pages_show_only_what_the_role_allows(string role, string action)
    {
        char expected = Expected(Pages, role, action);
        using var admin = factory.CreateClient();
        var vm = await CreateVmAsync(admin, $"p-{role}-{action}");
        var (browser, _) = await SignInAsAsync(role, action);
        using var __ = browser;
        string path = action switch
        {
            "ScreenPage" => $"/vms/{vm.Id}/screen",
            "CdromInsertButton" or "CdromEjectButton" => $"/vms/{vm.Id}/hardware",
            "NewVmButton" => "/vms",
            "HostPage" => "/host",
            "AuditPage" => "/audit",
            "AdminPage" => "/admin/users",
            "QuotaPage" => "/admin/quotas",
            _ => $"/vms/{vm.Id}",
        };
        if (action.StartsWith("Cdrom", StringComparison.Ordinal))
        {
            await CdromDriveAsync(admin, vm, $"p-{role}-{action}");
        }

        factory.Runtime.SetState(vm.Id, VmPowerState.Running);
        var response = await browser.GetAsync(path, Ct);
        if (response.StatusCode == HttpStatusCode.Redirect)
        {
            // A page that needs a privilege on / is refused before it renders.
            response.Headers.Location!.ToString().Should().Contain("/account/denied");
            expected.Should().Be('-', $"{role} is refused {path}");
            return;
        }

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        string html = await response.Content.ReadAsStringAsync(Ct);

        string marker = action switch
        {
            "VmDetail" => $"id=\"page-title\" class=\"mud-typography mud-typography-h4 wrap-anywhere\">{vm.Name}<",
            "PowerButtons" => $"aria-label=\"Stop {vm.Name}\"",
            "EditButton" => "data-testid=\"vm-edit\"",
            "DeleteButton" => "data-testid=\"vm-delete\"",
            "ConsoleTab" => ">Console<",
            "ScreenPage" => "data-testid=\"vnc-console\"",
            "CdromInsertButton" => "data-testid=\"cdrom-insert\"",
            "CdromEjectButton" => "data-testid=\"cdrom-eject\"",
            "NewVmButton" => "data-testid=\"new-vm\"",
            "HostPage" => "data-testid=\"host-cpu\"",
            "AuditPage" => "data-testid=\"audit-log\"",
            "QuotaPage" => "data-testid=\"quota-admin\"",
            _ => "data-testid=\"admin-users\"",
        };
        if (expected == 'S')
        {
            html.Should().Contain(marker, $"{role} sees {action}");
        }
        else
        {
            html.Should().NotContain(marker, $"{role} does not see {action}");
        }
    }

    // ---- helpers

    private readonly ConcurrentDictionary<string, string> _users = new();

    /// <summary>A user of its own for each row, with <paramref name="role"/> on <c>/</c>.</summary>
    private async Task<string> UserFor(string role, string action)
    {
        string name = $"{role}-{action}".ToLowerInvariant();
        if (!_users.TryGetValue(name, out string? id))
        {
            id = await TestAccounts.CreateUserAsync(factory.Services, name, (Roles.First(r => r.Name == role).Id, null));
            _users[name] = id;
        }

        return name;
    }

    private async Task<string?> UserIdAsync(string role, string action)
    {
        string name = await UserFor(role, action);
        return _users[name];
    }

    private async Task<string> TokenForAsync(string role, string action)
    {
        string name = await UserFor(role, action);
        // Every privilege the token could carry: the role alone decides.
        var tokens = factory.Services.GetRequiredService<ApiTokenService>();
        var access = await factory.Services.GetRequiredService<IPermissionService>().GetAccessAsync(_users[name], Ct);
        if (access.Anywhere == Privileges.None)
        {
            // NoAccess cannot make a token through the service; store one as an older grant would have left it.
            var made = await tokens.CreateAsync(await TestAccounts.AdminIdAsync(factory.Services), "noaccess", Privileges.All, null, Ct);
            await using var scope = factory.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<Platform.Web.Data.PlatformDbContext>();
            var token = await db.ApiTokens.FindAsync([made.Value!.Token.Id], Ct);
            token!.UserId = _users[name];
            await db.SaveChangesAsync(Ct);
            return made.Value.Secret;
        }

        return await TestAccounts.CreateTokenAsync(factory.Services, _users[name]);
    }

    private async Task<(HttpClient Client, string Cookie)> SignInAsAsync(string role, string action) =>
        await TestAccounts.SignInAsync(factory, await UserFor(role, action));

    private static async Task<VmResponse> CreateVmAsync(HttpClient admin, string name)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (await response.ReadAsync<VmResponse>())!;
    }

    /// <summary>The address of a clone of <paramref name="vm"/> (no disks, so done at once) that the administrator made.</summary>
    private static async Task<Uri> FinishedCloneAsync(HttpClient admin, VmResponse vm)
    {
        var started = await admin.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/clone", new { name = $"{vm.Name}-job" }, ApiJson.Options, Ct);
        started.StatusCode.Should().Be(HttpStatusCode.Accepted);
        for (var job = (await started.ReadAsync<CloneJobResponse>())!; job.State == Platform.Web.Services.Vms.CloneJobState.Running;)
        {
            await Task.Delay(20, Ct);
            job = (await admin.GetFromJsonAsync<CloneJobResponse>(started.Headers.Location, ApiJson.Options, Ct))!;
        }

        return started.Headers.Location!;
    }

    private static HttpStatusCode AllowedStatus(string action) => action switch
    {
        "CreateVm" or "CreateVmWithHostPath" or "CreateUser" or "CreateGroup" or "CreateRole" or "CreateGrant" or "AddVmDisk" or "CreateVmSnapshot"
            => HttpStatusCode.Created,
        "RevertVmSnapshot" or "DeleteVmSnapshot" => HttpStatusCode.NoContent,
        "CloneVm" => HttpStatusCode.Accepted,
        "CancelVmCloneJob" => HttpStatusCode.Conflict, // past the privilege check, refused because the clone has ended
        "SetVmNicLink" => HttpStatusCode.Conflict, // past the privilege check, refused because the VM is not running
        "DeleteVm" or "DeleteImage" or "DisableUser" or "DeleteUser" or "AddGroupMember" or "DeleteGroup" or "DeleteRole" or "DeleteGrant"
            or "RemoveUserQuota" or "RemoveGroupQuota"
            => HttpStatusCode.NoContent,
        "UploadImage" => HttpStatusCode.BadRequest, // past the privilege check, refused for having no file
        _ => HttpStatusCode.OK,
    };

    /// <summary>A kernel put in the image library for this row: a VM made from it needs no host path.</summary>
    private static async Task<Guid> LibraryKernelAsync(HttpClient admin, string name)
    {
        using var form = new MultipartFormDataContent { { new StringContent("kernel", Encoding.UTF8), "kind" } };
        form.Add(new ByteArrayContent([1, 2, 3, 4]), "file", $"{name}.kernel");
        var response = await admin.PostAsync("/api/v1/images", form, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (await response.ReadAsync<ImageResponse>())!.Id;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpClient admin, string action, VmResponse vm)
    {
        switch (action)
        {
            case "ListVms": return await client.GetAsync("/api/v1/vms", Ct);
            case "GetVm": return await client.GetAsync($"/api/v1/vms/{vm.Id}", Ct);
            case "VmEvents": return await client.GetAsync($"/api/v1/vms/{vm.Id}/events", Ct);
            case "CreateVm":
                return await client.PostAsJsonAsync("/api/v1/vms", new { name = $"{vm.Name}-new", kernelImageId = await LibraryKernelAsync(admin, vm.Name) }, ApiJson.Options, Ct);
            case "CreateVmWithHostPath":
                return await client.PostAsJsonAsync("/api/v1/vms", new { name = $"{vm.Name}-new", kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct);
            case "UpdateVm":
                var current = await admin.GetAsync($"/api/v1/vms/{vm.Id}", Ct);
                using (var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}"))
                {
                    put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
                    put.Content = JsonContent.Create(new { name = vm.Name, kernelPath = "/boot/vmlinuz", memoryMiB = 256 }, options: ApiJson.Options);
                    return await client.SendAsync(put, Ct);
                }

            case "DeleteVm": return await client.DeleteAsync($"/api/v1/vms/{vm.Id}", Ct);
            case "StartVm" or "ShutdownVm" or "StopVm" or "PauseVm" or "ResumeVm" or "ResetVm":
                return await client.PostAsync($"/api/v1/vms/{vm.Id}/{action[..^2].ToLowerInvariant()}", null, Ct);
            case "AddVmDisk": return await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks", new { sizeBytes = 1 << 20 }, ApiJson.Options, Ct);
            case "ResizeVmDisk":
                await BlankDiskAsync(admin, vm);
                return await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/0/resize", new { sizeBytes = 2 << 20 }, ApiJson.Options, Ct);
            case "ListVmSnapshots": return await client.GetAsync($"/api/v1/vms/{vm.Id}/snapshots", Ct);
            case "CreateVmSnapshot":
                await BlankDiskAsync(admin, vm);
                return await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/snapshots", new { name = "s1" }, ApiJson.Options, Ct);
            case "RevertVmSnapshot" or "DeleteVmSnapshot":
                await BlankDiskAsync(admin, vm);
                (await admin.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/snapshots", new { name = "s1" }, ApiJson.Options, Ct)).StatusCode.Should().Be(HttpStatusCode.Created);
                return action == "RevertVmSnapshot"
                    ? await client.PostAsync($"/api/v1/vms/{vm.Id}/snapshots/s1/revert", null, Ct)
                    : await client.DeleteAsync($"/api/v1/vms/{vm.Id}/snapshots/s1", Ct);
            case "GetVmCloudInit": return await client.GetAsync($"/api/v1/vms/{vm.Id}/cloud-init", Ct);
            case "SetVmCloudInit":
                return await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init", new { userName = "alice", password = "secret-pass" }, ApiJson.Options, Ct);
            case "SetVmTemplate":
                return await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/template", new { isTemplate = true }, ApiJson.Options, Ct);
            case "CloneVm": return await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/clone", new { name = $"{vm.Name}-copy" }, ApiJson.Options, Ct);
            case "GetVmCloneJob" or "CancelVmCloneJob":
                var job = await FinishedCloneAsync(admin, vm);
                return action == "GetVmCloneJob" ? await client.GetAsync(job, Ct) : await client.DeleteAsync(job, Ct);
            case "GetVmCdrom": return await client.GetAsync($"/api/v1/vms/{vm.Id}/cdrom", Ct);
            case "InsertVmCdrom":
                await CdromDriveAsync(admin, vm, null);
                return await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cdrom/medium", new { imageId = await LibraryIsoAsync(admin, vm.Name) }, ApiJson.Options, Ct);
            case "EjectVmCdrom":
                await CdromDriveAsync(admin, vm, vm.Name);
                return await client.DeleteAsync($"/api/v1/vms/{vm.Id}/cdrom/medium", Ct);
            case "SetVmNicLink":
                await NicAsync(admin, vm);
                return await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/nics/0/link", new { up = false }, ApiJson.Options, Ct);
            case "ConsoleTicketByToken": return await client.PostAsync($"/api/v1/vms/{vm.Id}/console/vnc/ticket", null, Ct);
            case "ListEvents": return await client.GetAsync("/api/v1/events?take=500", Ct);
            case "ListEventsOfVm": return await client.GetAsync($"/api/v1/events?vmId={vm.Id}", Ct);
            case "StreamEvents" or "StreamEventsOfVm":
            {
                var request = new HttpRequestMessage(HttpMethod.Get, action == "StreamEvents" ? "/api/v1/events" : $"/api/v1/events?vmId={vm.Id}");
                request.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue(VmEventStream.ContentType));
                using var streamed = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
                // Only the answer is this table's (what the stream carries is EventStreamTests'): it is let go at once.
                return new HttpResponseMessage(streamed.StatusCode);
            }

            case "ListImages": return await client.GetAsync("/api/v1/images", Ct);
            case "GetImage": return await client.GetAsync($"/api/v1/images/{await LibraryKernelAsync(admin, vm.Name)}", Ct);
            case "DeleteImage": return await client.DeleteAsync($"/api/v1/images/{await LibraryKernelAsync(admin, vm.Name)}", Ct);
            case "UploadImage":
                using (var form = new MultipartFormDataContent { { new StringContent("disk", Encoding.UTF8), "kind" } })
                {
                    return await client.PostAsync("/api/v1/images", form, Ct);
                }

            case "GetHost": return await client.GetAsync("/api/v1/host", Ct);
            case "ListUsers": return await client.GetAsync("/api/v1/users", Ct);
            case "CreateUser":
                return await client.PostAsJsonAsync("/api/v1/users", new CreateUserRequest($"u-{vm.Name}", "a-password-someone-chose-9"), ApiJson.Options, Ct);
            case "CreateGroup": return await client.PostAsJsonAsync("/api/v1/groups", new CreateGroupRequest($"g-{vm.Name}", null), ApiJson.Options, Ct);
            case "ListGrants": return await client.GetAsync("/api/v1/grants", Ct);
            case "ListAudit": return await client.GetAsync("/api/v1/audit", Ct);
            case "ListAuditOfVm": return await client.GetAsync($"/api/v1/audit?vmId={vm.Id}", Ct);
            case "ListTokens": return await client.GetAsync("/api/v1/tokens", Ct);
            case "RevokeOthersToken": return await client.DeleteAsync($"/api/v1/tokens/{await AdminTokenIdAsync(admin)}", Ct);
            case "DisableUser":
                return await client.PatchAsJsonAsync($"/api/v1/users/{await TargetUserAsync(admin, vm)}", new UpdateUserRequest(true), ApiJson.Options, Ct);
            case "ResetPassword":
                return await client.PostAsJsonAsync($"/api/v1/users/{await TargetUserAsync(admin, vm)}/password", new ResetPasswordRequest(null), ApiJson.Options, Ct);
            case "DeleteUser": return await client.DeleteAsync($"/api/v1/users/{await TargetUserAsync(admin, vm)}", Ct);
            case "ListGroups": return await client.GetAsync("/api/v1/groups", Ct);
            case "ListQuotas": return await client.GetAsync("/api/v1/quotas", Ct);
            case "SetUserQuota":
                return await client.PutAsJsonAsync($"/api/v1/quotas/users/{await TargetUserAsync(admin, vm)}", new { maxVms = 3 }, ApiJson.Options, Ct);
            case "SetGroupQuota":
                return await client.PutAsJsonAsync($"/api/v1/quotas/groups/{await TargetGroupAsync(admin, vm)}", new { maxVcpus = 8 }, ApiJson.Options, Ct);
            case "RemoveUserQuota" or "RemoveGroupQuota":
            {
                bool user = action == "RemoveUserQuota";
                string path = user ? $"/api/v1/quotas/users/{await TargetUserAsync(admin, vm)}" : $"/api/v1/quotas/groups/{await TargetGroupAsync(admin, vm)}";
                (await admin.PutAsJsonAsync(path, new { maxVms = 1 }, ApiJson.Options, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
                return await client.DeleteAsync(path, Ct);
            }
            case "AddGroupMember":
                return await client.PutAsync($"/api/v1/groups/{await TargetGroupAsync(admin, vm)}/members/{await TargetUserAsync(admin, vm)}", null, Ct);
            case "DeleteGroup": return await client.DeleteAsync($"/api/v1/groups/{await TargetGroupAsync(admin, vm)}", Ct);
            case "ListRoles": return await client.GetAsync("/api/v1/roles", Ct);
            case "CreateRole":
                return await client.PostAsJsonAsync("/api/v1/roles", new SaveRoleRequest($"r-{vm.Name}", ["VM.Audit"], null), ApiJson.Options, Ct);
            case "UpdateRole":
                return await client.PutAsJsonAsync($"/api/v1/roles/{await TargetRoleAsync(admin, vm)}",
                    new SaveRoleRequest($"r-{vm.Name}", ["VM.Audit", "VM.Console"], null), ApiJson.Options, Ct);
            case "DeleteRole": return await client.DeleteAsync($"/api/v1/roles/{await TargetRoleAsync(admin, vm)}", Ct);
            case "CreateGrant":
                return await client.PostAsJsonAsync("/api/v1/grants",
                    new CreateGrantRequest(await TargetUserAsync(admin, vm), null, vm.Id, BuiltInRoles.VmUserId), ApiJson.Options, Ct);
            case "DeleteGrant":
                var grant = await admin.PostAsJsonAsync("/api/v1/grants",
                    new CreateGrantRequest(await TargetUserAsync(admin, vm), null, vm.Id, BuiltInRoles.AuditorId), ApiJson.Options, Ct);
                return await client.DeleteAsync($"/api/v1/grants/{(await grant.ReadAsync<GrantResponse>())!.Id}", Ct);
            default: throw new ArgumentOutOfRangeException(nameof(action), action, "not in the table");
        }
    }

    /// <summary>An ISO image put in the library for this row.</summary>
    private static async Task<Guid> LibraryIsoAsync(HttpClient admin, string name)
    {
        using var form = new MultipartFormDataContent { { new StringContent("iso", Encoding.UTF8), "kind" } };
        form.Add(new ByteArrayContent(IsoImages.Make("MATRIX")), "file", $"{name}.iso");
        var response = await admin.PostAsync("/api/v1/images", form, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (await response.ReadAsync<ImageResponse>())!.Id;
    }

    /// <summary>The administrator gives the row's VM a CD-ROM drive, with an ISO image named for <paramref name="disc"/> in it (or empty).</summary>
    private static async Task CdromDriveAsync(HttpClient admin, VmResponse vm, string? disc)
    {
        Guid? imageId = disc is null ? null : await LibraryIsoAsync(admin, disc);
        var current = await admin.GetAsync($"/api/v1/vms/{vm.Id}", Ct);
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}");
        put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        put.Content = JsonContent.Create(new { name = vm.Name, kernelPath = "/boot/vmlinuz", cdrom = new { imageId } }, options: ApiJson.Options);
        (await admin.SendAsync(put, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    /// <summary>The administrator gives the row's VM a NIC on the default network.</summary>
    private static async Task NicAsync(HttpClient admin, VmResponse vm)
    {
        var current = await admin.GetAsync($"/api/v1/vms/{vm.Id}", Ct);
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}");
        put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        put.Content = JsonContent.Create(new { name = vm.Name, kernelPath = "/boot/vmlinuz", nics = new[] { new { networkId = Network.DefaultId } } }, options: ApiJson.Options);
        (await admin.SendAsync(put, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    /// <summary>A 1 MiB blank qcow2 disk for the row's VM, made by the administrator.</summary>
    private static async Task BlankDiskAsync(HttpClient admin, VmResponse vm) =>
        (await admin.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks", new { sizeBytes = 1 << 20 }, ApiJson.Options, Ct)).StatusCode.Should().Be(HttpStatusCode.Created);

    /// <summary>The first administrator's API token (the one the test clients use), which no other user may touch.</summary>
    private static async Task<Guid> AdminTokenIdAsync(HttpClient admin) =>
        (await admin.GetFromJsonAsync<List<ApiTokenResponse>>("/api/v1/tokens", ApiJson.Options, Ct))!.Single(t => t.Name == "tests").Id;

    /// <summary>A user for this row's administration action to act on, made by the administrator.</summary>
    private static async Task<string> TargetUserAsync(HttpClient admin, VmResponse vm)
    {
        string name = $"t-{vm.Name}";
        var users = (await admin.GetFromJsonAsync<List<UserResponse>>("/api/v1/users", ApiJson.Options, Ct))!;
        if (users.FirstOrDefault(u => u.UserName == name) is { } existing)
        {
            return existing.Id;
        }

        var made = await admin.PostAsJsonAsync("/api/v1/users", new CreateUserRequest(name, "a-password-someone-chose-9"), ApiJson.Options, Ct);
        return (await made.ReadAsync<UserResponse>())!.Id;
    }

    private static async Task<Guid> TargetGroupAsync(HttpClient admin, VmResponse vm)
    {
        var made = await admin.PostAsJsonAsync("/api/v1/groups", new CreateGroupRequest($"tg-{vm.Name}", null), ApiJson.Options, Ct);
        return (await made.ReadAsync<GroupResponse>())!.Id;
    }

    private static async Task<Guid> TargetRoleAsync(HttpClient admin, VmResponse vm)
    {
        var made = await admin.PostAsJsonAsync("/api/v1/roles", new SaveRoleRequest($"r-{vm.Name}", ["VM.Audit"], null), ApiJson.Options, Ct);
        return (await made.ReadAsync<RoleResponse>())!.Id;
    }

    /// <summary>POSTs for a console ticket as the page would: session cookie plus the antiforgery token from a page.</summary>
    internal static async Task<HttpResponseMessage> PostTicketAsync(HttpClient browser, Guid vmId, ConsoleKind kind)
    {
        string page = await browser.GetStringAsync("/vms", Ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/vms/{vmId}/console/{kind.ToString().ToLowerInvariant()}/ticket");
        request.Headers.Add("RequestVerificationToken", TestAccounts.AntiforgeryToken(page));
        return await browser.SendAsync(request, Ct);
    }

    private static async Task AuditSaysAsync(HttpClient admin, string role, AuditResult result)
    {
        var page = await admin.GetFromJsonAsync<AuditPageResponse>($"/api/v1/audit?user={role.ToLowerInvariant()}&result={result}&take=50", ApiJson.Options, Ct);
        page!.Items.Should().NotBeEmpty($"refusals of {role} are audited");
    }

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
