using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;
using Platform.Web.Services.History;

namespace Platform.E2E.Tests;

/// <summary>
/// The Summary tab's history charts in Chromium: drawn by MudBlazor from an hour of recorded points, a tooltip on hover,
/// the range buttons, and readable in dark mode. Screenshots of both modes go to the artifacts folder.
/// </summary>
public sealed class HistoryChartTests : DashboardBrowserTest
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_summary_tab_charts_an_hour_with_hover_values_in_light_and_dark_mode()
    {
        Guid vmId;
        using (var api = Server.CreateApiClient())
        {
            var created = await api.PostAsJsonAsync("/api/v1/vms", new { name = "history-e2e", kernelPath = "/boot/vmlinuz" }, Ct);
            created.EnsureSuccessStatusCode();
            vmId = (await created.Content.ReadFromJsonAsync<VmIdOnly>(Ct))!.Id;
        }

        // An hour of a VM that worked in waves, as the recorder would have written it.
        var store = Server.Services.GetRequiredService<HistoryStore>();
        var now = DateTimeOffset.UtcNow;
        for (int i = 359; i >= 0; i--)
        {
            double wave = 50 + (40 * Math.Sin(i / 20.0));
            store.RecordVm(vmId, now.AddSeconds(-10 * i),
                [wave, (200 + wave) * 1048576, 512 * 1048576.0, wave * 40960, wave * 20480, wave, wave / 2, wave * 1500, wave * 700, wave, wave / 2, wave * 100]);
        }

        var page = await Chromium.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        try
        {
            await SignIn.AsAdministratorAsync(page, Server);
            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{vmId}/summary").ToString());
            await Interactive.WaitForCircuitAsync(page);

            var history = page.GetByTestId("vm-history");
            var cpu = history.GetByTestId("history-chart-cpu");
            await Assertions.Expect(cpu.Locator("path.mud-chart-line")).ToHaveCountAsync(1);
            (await cpu.Locator("path.mud-chart-line").GetAttributeAsync("d")).Should().Contain(" L ");
            await Assertions.Expect(cpu.GetByTestId("history-latest")).ToContainTextAsync("%");

            // Hovering a point shows its series, value and time.
            var point = cpu.Locator("circle.mud-chart-point").Nth(200);
            await point.HoverAsync(new LocatorHoverOptions { Force = true });
            // MudBlazor draws the tooltip inside the chart's svg; nothing else there names the series.
            await Assertions.Expect(cpu.Locator("svg").First).ToContainTextAsync(new Regex(@"vCPU time: [\d.]+ %\s*\d\d:\d\d:\d\d"));
            await history.ScreenshotAsync(new LocatorScreenshotOptions { Path = Artifacts.PathFor("history-summary-light.png") });
            string lightAxis = await AxisTextColourAsync(cpu);

            await page.GetByLabel("Toggle dark mode").ClickAsync();
            string darkAxis = lightAxis;
            for (int attempt = 0; attempt < 20 && darkAxis == lightAxis; attempt++)
            {
                await page.WaitForTimeoutAsync(250);
                darkAxis = await AxisTextColourAsync(cpu);
            }

            darkAxis.Should().NotBe(lightAxis, "axis text follows the theme, so it stays readable on a dark background");
            await point.HoverAsync(new LocatorHoverOptions { Force = true });
            await history.ScreenshotAsync(new LocatorScreenshotOptions { Path = Artifacts.PathFor("history-summary-dark.png") });
            new FileInfo(Artifacts.PathFor("history-summary-light.png")).Length.Should().BeGreaterThan(10_000);
            new FileInfo(Artifacts.PathFor("history-summary-dark.png")).Length.Should().BeGreaterThan(10_000);

            // A week shows the same hour as two or three half-hour points; the buttons switch the range.
            await history.GetByTestId("history-range-week").ClickAsync();
            await Assertions.Expect(cpu.Locator(".mud-charts-xaxis text")).ToHaveCountAsync(336);
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("history-failure.png"), FullPage = true });
            throw;
        }
    }

    private static Task<string> AxisTextColourAsync(ILocator chart) =>
        chart.Locator(".mud-charts-yaxis text").First.EvaluateAsync<string>("t => getComputedStyle(t).fill");

    private sealed record VmIdOnly(Guid Id);
}
