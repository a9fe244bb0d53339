using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;

namespace Platform.E2E.Tests;

/// <summary>
/// A VM on the default network in a real browser: the nat test guest takes a DHCP lease from its own passt, and the
/// address it then sends from shows on the VM list and the Summary tab.
/// </summary>
public sealed class NetworkTests : DashboardBrowserTest
{
    [Fact]
    public async Task A_vm_on_the_default_network_shows_the_address_its_guest_took()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = Server.CreateApiClient();
        var created = await api.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "nat-e2e", kernelPath = ConsoleTests.TestGuestPath("nat"), memoryMiB = 64, commandLine = "ping=0 end=halt", displayEnabled = false,
            nics = new[] { new { networkId = Platform.Web.Data.Network.DefaultId } },
        }, ct);
        created.EnsureSuccessStatusCode();
        string id = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!;
        (await api.PostAsync($"/api/v1/vms/{id}/start", null, ct)).EnsureSuccessStatusCode();

        var page = await Chromium.NewPageAsync();
        try
        {
            await SignIn.AsAdministratorAsync(page, Server);
            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}").ToString());
            await Interactive.WaitForCircuitAsync(page);
            var address = page.GetByTestId("vm-summary").GetByTestId("guest-address");
            await Assertions.Expect(address).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+\.\d+\.\d+\.\d+"), new() { Timeout = 60_000 });
            string lease = await address.InnerTextAsync();

            await page.GotoAsync(new Uri(Server.BaseAddress, "/vms").ToString());
            await Interactive.WaitForCircuitAsync(page);
            var row = page.GetByTestId("vm-list").Locator("tbody tr").Filter(new LocatorFilterOptions { HasText = "nat-e2e" });
            await Assertions.Expect(row.GetByTestId("guest-address")).ToHaveTextAsync(lease, new() { Timeout = 30_000 });
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("network-address-list.png"), FullPage = true });

            var interfaces = await api.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{id}/interfaces", ct);
            interfaces[0].GetProperty("addresses").EnumerateArray().Select(a => a.GetString()).Should().Contain(lease.Split(", ")[0]);
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("network-address-failure.png"), FullPage = true });
            throw;
        }
        finally
        {
            await api.PostAsync($"/api/v1/vms/{id}/stop", null, ct);
        }
    }
}
