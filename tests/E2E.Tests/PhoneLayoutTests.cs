using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;
using Platform.Web.Components.Vms;

namespace Platform.E2E.Tests;

/// <summary>
/// The dashboard on a phone (390×844, an iPhone 12–15's CSS pixels): the page never scrolls sideways, the navigation
/// drawer opens from the menu button and gets out of the way, every tab of a VM's page can be reached (MudTabs' scroll
/// arrows) and opened, the Summary table's rows end on the screen, and the console's screen is as tall as the guest's
/// picture rather than a letterbox.
/// </summary>
public sealed class PhoneLayoutTests : DashboardBrowserTest
{
    private const int Width = 390, Height = 844;
    private const string PageWidth = "document.scrollingElement.scrollWidth";

    [Fact]
    public async Task The_list_the_drawer_every_VM_tab_and_the_console_fit_a_phone()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = Server.CreateApiClient();
        var created = await api.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "phone-fb-with-a-rather-long-name-that-must-wrap", description = "The fb test guest, seen from a phone in the browser test",
            kernelPath = ConsoleTests.TestGuestPath("fb"), memoryMiB = 64, commandLine = "", displayEnabled = true,
        }, ct);
        created.EnsureSuccessStatusCode();
        string id = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!;
        (await api.PostAsync($"/api/v1/vms/{id}/start", null, ct)).EnsureSuccessStatusCode();

        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = Width, Height = Height }, IsMobile = true, HasTouch = true, DeviceScaleFactor = 2,
        });
        var page = await context.NewPageAsync();
        string where = "the VM list";
        try
        {
            await SignIn.AsAdministratorAsync(page, Server);
            await page.GotoAsync(new Uri(Server.BaseAddress, "/vms").ToString());
            await Interactive.WaitForCircuitAsync(page);
            var row = page.GetByTestId("vm-list").Locator("tbody tr").Filter(new() { HasText = "phone-fb" });
            await Assertions.Expect(row.GetByTestId("vm-state")).ToHaveTextAsync("running", new() { Timeout = 60_000 });
            await FitsTheScreenAsync(page, where);

            // The drawer: closed on a phone, so it does not cover the page; the menu button opens it over the page, and
            // a link in it goes there and closes it.
            where = "the navigation drawer";
            var drawer = page.Locator(".mud-drawer");
            await Assertions.Expect(drawer).Not.ToBeInViewportAsync();
            await page.GetByLabel("Toggle navigation").ClickAsync();
            var events = drawer.GetByRole(AriaRole.Link, new() { Name = "Events" });
            await Assertions.Expect(events).ToBeInViewportAsync();
            await events.ClickAsync();
            await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Events");
            await Assertions.Expect(drawer).Not.ToBeInViewportAsync();
            await FitsTheScreenAsync(page, "the Events page");

            // Each of the VM page's tabs comes whole onto the screen by the tab bar's right arrow, opens, and its page fits.
            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}").ToString());
            await Interactive.WaitForCircuitAsync(page);
            foreach (var tab in VmDetailTabs.All)
            {
                where = $"the {tab.Title} tab";
                var header = page.GetByTestId("vm-tabs").GetByRole(AriaRole.Tab, new() { Name = tab.Title, Exact = true });
                await TapTabAsync(page, header, "Scroll tabs right");
                await Assertions.Expect(header).ToHaveAttributeAsync("aria-selected", "true");
                await Assertions.Expect(header).ToBeInViewportAsync(new() { Ratio = 1 }); // The bar slides the open tab whole onto the screen.
                await page.WaitForURLAsync(url => url.EndsWith($"/{tab.Key}", StringComparison.Ordinal) || tab == VmDetailTabs.All[0]);
                await FitsTheScreenAsync(page, where);
            }

            // The Summary table's rows end on the screen: a long kernel path once widened the table, whose container then
            // cut every row off at the screen's edge (the page itself did not scroll, so only this shows it).
            where = "the Summary table";
            // Back from the last tab as a phone user goes, by the tab bar's left arrow.
            var summary = page.GetByTestId("vm-tabs").GetByRole(AriaRole.Tab, new() { Name = "Summary", Exact = true });
            await TapTabAsync(page, summary, "Scroll tabs left");
            await Assertions.Expect(summary).ToHaveAttributeAsync("aria-selected", "true");
            await Assertions.Expect(page.GetByTestId("vm-summary")).ToContainTextAsync("fb.elf");
            double widest = await page.EvaluateAsync<double>(
                "() => Math.max(...[...document.querySelectorAll('[data-testid=vm-summary] td')].map(td => td.getBoundingClientRect().right))");
            widest.Should().BeLessThanOrEqualTo(Width, "every value of the Summary table is on the screen");

            // The console: the guest's 640×480 picture scaled to the screen's width, in a box of its shape.
            where = "the console";
            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}/console").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await Assertions.Expect(page.GetByTestId("console-status")).ToHaveTextAsync("connected", new() { Timeout = 30_000 });
            var canvas = page.Locator("[data-testid=vnc-console] canvas");
            await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=vnc-console] canvas')?.width >= 640", null, new() { Timeout = 30_000 });
            var screen = (await page.GetByTestId("vnc-console").BoundingBoxAsync())!;
            var picture = (await canvas.BoundingBoxAsync())!;
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("phone-console.png"), FullPage = true });
            picture.Width.Should().BeGreaterThan(screen.Width - 4, "the picture takes the screen's width");
            screen.Height.Should().BeLessThan(picture.Height + 8, "the console is as tall as the picture, not a letterbox around it");
            await FitsTheScreenAsync(page, where);
        }
        catch (Exception ex)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("phone-failure.png"), FullPage = true });
            await File.WriteAllTextAsync(Artifacts.PathFor("phone-failure.html"), await page.ContentAsync(), ct);
            throw new InvalidOperationException($"On a phone, {where} failed", ex);
        }
        finally
        {
            await api.PostAsync($"/api/v1/vms/{id}/stop", null, ct);
        }
    }

    /// <summary>
    /// Taps a tab's header as a phone user does: on the part of it the tab bar shows, once the bar's
    /// <paramref name="arrow"/> has brought enough of it onto the screen (the bar slides by a transform). Playwright's own
    /// scrolling into view would scroll the bar's overflow-hidden box behind MudTabs' back, which no finger can, and
    /// which then cut the first tab in half with its left arrow disabled.
    /// </summary>
    private static async Task TapTabAsync(IPage page, ILocator header, string arrow)
    {
        var tabs = page.GetByTestId("vm-tabs");
        var bar = tabs.Locator(".mud-tabs-tabbar-content");
        var button = tabs.GetByRole(AriaRole.Button, new() { Name = arrow });
        for (int taps = 0; ; taps++)
        {
            await (await header.ElementHandleAsync()).WaitForElementStateAsync(ElementState.Stable);
            var shown = (await bar.BoundingBoxAsync())!;
            var box = (await header.BoundingBoxAsync())!;
            double left = Math.Max(box.X, shown.X), right = Math.Min(box.X + box.Width, shown.X + shown.Width);
            if (right - left >= 24)
            {
                await header.ClickAsync(new() { Position = new() { X = (float)((left + right) / 2 - box.X), Y = box.Height / 2 } });
                return;
            }

            taps.Should().BeLessThan(VmDetailTabs.All.Count, $"the tab bar's \"{arrow}\" arrow brings the tab onto the screen");
            await button.ClickAsync(new() { Timeout = 10_000 });
        }
    }

    /// <summary>The page does not scroll sideways: nothing is wider than the screen.</summary>
    private static async Task FitsTheScreenAsync(IPage page, string where)
    {
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor($"phone-{where.Replace(' ', '-')}.png"), FullPage = true });
        int scrollWidth = await page.EvaluateAsync<int>(PageWidth);
        scrollWidth.Should().BeLessThanOrEqualTo(await page.EvaluateAsync<int>("innerWidth"), $"{where} fits a phone's screen without scrolling sideways");
    }
}
