using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;

namespace Platform.E2E.Tests;

public sealed class DashboardShellTests : DashboardBrowserTest
{
    [Fact]
    public async Task Front_page_opens_the_vm_list_and_the_dark_mode_toggle_works()
    {
        var page = await Chromium.NewPageAsync();
        await SignIn.AsAdministratorAsync(page, Server);
        await page.GotoAsync(Server.BaseAddress.ToString());

        await Assertions.Expect(page).ToHaveURLAsync(new Uri(Server.BaseAddress, "/vms").ToString());
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Virtual machines");
        await Assertions.Expect(page.GetByTestId("vm-list-empty")).ToBeVisibleAsync();

        // The page is prerendered; a click only takes effect once the interactive circuit is up, so retry.
        var toggle = page.GetByLabel("Toggle dark mode");
        const string Background = "getComputedStyle(document.documentElement).getPropertyValue('--mud-palette-background').trim()";
        string before = await page.EvaluateAsync<string>(Background);
        string after = before;
        for (int attempt = 0; attempt < 20 && after == before; attempt++)
        {
            await toggle.ClickAsync();
            await page.WaitForTimeoutAsync(250);
            after = await page.EvaluateAsync<string>(Background);
        }

        after.Should().NotBe(before, "the dark mode toggle switches MudBlazor's palette");
    }

    [Fact]
    public async Task Narrow_screen_still_shows_the_list()
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 390, Height = 800 } });
        var page = await context.NewPageAsync();
        await SignIn.AsAdministratorAsync(page, Server);
        await page.GotoAsync(new Uri(Server.BaseAddress, "/vms").ToString());
        await Assertions.Expect(page.GetByTestId("vm-list-empty")).ToBeVisibleAsync();
    }
}
