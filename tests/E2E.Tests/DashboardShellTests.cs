using System.Net.Http.Json;
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
        const int PhoneWidth = 390;
        string[] names = ["phone-vm-one", "phone-vm-two"];
        using (var api = Server.CreateApiClient())
        {
            foreach (string name in names)
            {
                var created = await api.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz" }, TestContext.Current.CancellationToken);
                created.EnsureSuccessStatusCode();
            }
        }

        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = PhoneWidth, Height = 800 } });
        var page = await context.NewPageAsync();
        await SignIn.AsAdministratorAsync(page, Server);
        await page.GotoAsync(new Uri(Server.BaseAddress, "/vms").ToString());
        await Interactive.WaitForCircuitAsync(page);

        // Each VM's name and its power button are on the screen, not off its right edge, and the page does not scroll
        // sideways: the table stacks its cells at this width instead of squeezing six columns in.
        var list = page.GetByTestId("vm-list");
        await Assertions.Expect(list).ToBeVisibleAsync();
        foreach (string name in names)
        {
            var link = list.GetByRole(AriaRole.Link, new() { Name = name, Exact = true });
            var start = list.GetByLabel($"Start {name}");
            await Assertions.Expect(link).ToBeVisibleAsync();
            await Assertions.Expect(start).ToBeVisibleAsync();
            foreach (var element in new[] { link, start })
            {
                var box = (await element.BoundingBoxAsync())!;
                box.X.Should().BeGreaterThanOrEqualTo(0);
                (box.X + box.Width).Should().BeLessThanOrEqualTo(PhoneWidth, $"{name}'s row fits a phone's screen");
            }
        }

        (await page.EvaluateAsync<int>("document.documentElement.scrollWidth")).Should().BeLessThanOrEqualTo(PhoneWidth);
    }
}
