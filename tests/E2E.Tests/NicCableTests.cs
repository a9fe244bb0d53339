using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Platform.Contracts.Control;
using Platform.E2E.Tests.Infrastructure;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;

namespace Platform.E2E.Tests;

/// <summary>
/// Issue 13's NIC cable in a real browser: on a running VM with a NAT (passt) NIC, the Hardware tab's "Cable connected"
/// switch pulls the cable out and plugs it back in, and each time the VMM itself says so (its own control socket, not the
/// page under test, nor the dashboard's view of it). A VMUser on the VM sees the cable but cannot flip it, in the page or
/// through the API.
/// </summary>
public sealed class NicCableTests : DashboardBrowserTest
{
    private const string Password = "a-browser-test-password";

    [Fact]
    public async Task The_cable_switch_pulls_and_plugs_the_running_nic_and_a_vm_user_cannot()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = Server.CreateApiClient();
        var created = await api.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "cable-e2e", kernelPath = ConsoleTests.TestGuestPath("nat"), memoryMiB = 64, commandLine = "ping=0 end=halt", displayEnabled = false,
            nics = new[] { new { networkId = Network.DefaultId } },
        }, ct);
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid();
        (await api.PostAsync($"/api/v1/vms/{id}/start", null, ct)).EnsureSuccessStatusCode();
        string userId = await Server.CreateUserAsync("cable-user", Password, (BuiltInRoles.VmUserId, id));

        var admin = await Chromium.NewPageAsync();
        var user = await (await Chromium.NewContextAsync()).NewPageAsync();
        string where = "the administrator's Hardware tab";
        try
        {
            await SignIn.AsAdministratorAsync(admin, Server);
            await OpenHardwareTabAsync(admin, id);
            var cable = CableSwitch(admin);
            await Assertions.Expect(cable).ToBeCheckedAsync(new() { Timeout = 60_000 }); // The VMM's word: plugged in at start.
            await Assertions.Expect(cable).ToBeEnabledAsync();
            (await VmmLinkUpAsync(id, ct)).Should().BeTrue("every start begins with the cable plugged in");

            where = "pulling the cable out";
            await cable.ClickAsync();
            await Assertions.Expect(admin.GetByText("Pulled out NIC 1's cable.")).ToBeVisibleAsync();
            await Assertions.Expect(CableSwitch(admin)).Not.ToBeCheckedAsync();
            (await VmmLinkUpAsync(id, ct)).Should().BeFalse("the switch pulled the cable out in the VMM itself");
            (await NicLinkUpFromApiAsync(api, id, ct)).Should().BeFalse("the API reads the same VMM");

            // A VMUser on this VM sees the cable as the VMM has it, with the switch greyed out, and the API refuses them.
            where = "the VM user's Hardware tab";
            await SignIn.AsAsync(user, Server.BaseAddress, "cable-user", Password);
            await OpenHardwareTabAsync(user, id);
            var theirs = CableSwitch(user);
            await Assertions.Expect(theirs).Not.ToBeCheckedAsync(new() { Timeout = 30_000 });
            await Assertions.Expect(theirs).ToBeDisabledAsync();
            await theirs.ClickAsync(new() { Force = true, Timeout = 5_000 }); // A click on the disabled switch does nothing.
            await Assertions.Expect(theirs).Not.ToBeCheckedAsync();

            where = "the VM user's API call";
            using (var userApi = await ApiClientForAsync(userId, ct))
            {
                var refused = await userApi.PostAsJsonAsync($"/api/v1/vms/{id}/nics/0/link", new { up = true }, ct);
                refused.StatusCode.Should().Be(HttpStatusCode.Forbidden, "a VMUser lacks VM.Config, which the cable needs");
            }

            (await VmmLinkUpAsync(id, ct)).Should().BeFalse("neither the page nor the API let the VM user plug it back in");

            where = "plugging the cable back in";
            cable = CableSwitch(admin);
            await cable.ClickAsync();
            await Assertions.Expect(admin.GetByText("Plugged in NIC 1's cable.")).ToBeVisibleAsync();
            await Assertions.Expect(CableSwitch(admin)).ToBeCheckedAsync();
            (await VmmLinkUpAsync(id, ct)).Should().BeTrue("the switch plugged the cable back in in the VMM");
            (await NicLinkUpFromApiAsync(api, id, ct)).Should().BeTrue();

            // The user's open page follows: each stats sample carries the link.
            where = "the VM user's page following the change";
            await Assertions.Expect(CableSwitch(user)).ToBeCheckedAsync(new() { Timeout = 30_000 });
        }
        catch (Exception ex)
        {
            await admin.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("nic-cable-admin-failure.png"), FullPage = true });
            await user.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("nic-cable-user-failure.png"), FullPage = true });
            throw new InvalidOperationException($"The NIC cable: {where} failed", ex);
        }
        finally
        {
            await api.PostAsync($"/api/v1/vms/{id}/stop", null, ct);
        }
    }

    private async Task OpenHardwareTabAsync(IPage page, Guid id)
    {
        await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}/hardware").ToString());
        await Interactive.WaitForCircuitAsync(page);
        await Assertions.Expect(page.GetByTestId("vm-nics")).ToBeVisibleAsync(new() { Timeout = 30_000 });
    }

    /// <summary>NIC 1's switch (MudSwitch puts the test id on its input or around it, depending on the version).</summary>
    private static ILocator CableSwitch(IPage page) => page.Locator("[data-testid=nic-link-0] input, input[data-testid=nic-link-0]");

    /// <summary>NIC 1's link as the VMM reports it on its own control socket (query-stats, net0's link_up counter).</summary>
    private async Task<bool> VmmLinkUpAsync(Guid id, CancellationToken ct)
    {
        string path = Server.Services.GetRequiredService<IVmRuntimeInfo>().GetSocketPath(id, VmSocket.Control)
            ?? throw new InvalidOperationException("The VM is not running: it has no control socket.");
        await using var vmm = await VmmControlClient.ConnectAsync(path, ct);
        var stats = await vmm.QueryStatsAsync(ct);
        var net0 = stats.Devices.Should().ContainSingle(d => d.Name == "net0", "the VM has one NIC").Subject;
        return net0.Counters["link_up"] != 0;
    }

    private static async Task<bool?> NicLinkUpFromApiAsync(HttpClient api, Guid id, CancellationToken ct)
    {
        var vm = await api.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{id}", ct);
        var link = vm.GetProperty("nics")[0].GetProperty("linkUp");
        return link.ValueKind == JsonValueKind.Null ? null : link.GetBoolean();
    }

    /// <summary>An API client with a token of <paramref name="userId"/>'s own, holding every privilege they have.</summary>
    private async Task<HttpClient> ApiClientForAsync(string userId, CancellationToken ct)
    {
        var access = await Server.Services.GetRequiredService<IPermissionService>().GetAccessAsync(userId, ct);
        var token = await Server.Services.GetRequiredService<ApiTokenService>().CreateAsync(userId, "e2e-user", access.Anywhere, null, ct);
        var client = new HttpClient { BaseAddress = Server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Value!.Secret);
        return client;
    }
}
