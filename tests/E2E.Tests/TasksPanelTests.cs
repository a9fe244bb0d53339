using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;

namespace Platform.E2E.Tests;

/// <summary>The tasks panel at the bottom of the page, in a real browser: a VM started with its button shows as a task that finishes.</summary>
public sealed class TasksPanelTests : DashboardBrowserTest
{
    [Fact]
    public async Task Starting_a_vm_shows_its_task_in_the_panel_until_it_finishes_with_the_user_and_its_lines()
    {
        const string VmName = "tasks-e2e";
        var ct = TestContext.Current.CancellationToken;
        using var api = Server.CreateApiClient();
        var created = await api.PostAsJsonAsync("/api/v1/vms", new
        {
            name = VmName, kernelPath = ConsoleTests.TestGuestPath("echo"), memoryMiB = 64, commandLine = "", displayEnabled = false,
        }, ct);
        created.EnsureSuccessStatusCode();
        var id = Guid.Parse((await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!);

        var page = await Chromium.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        try
        {
            await SignIn.AsAdministratorAsync(page, Server);
            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}").ToString());
            await Interactive.WaitForCircuitAsync(page);
            var panel = page.GetByTestId("tasks-panel");
            await Assertions.Expect(panel).ToBeVisibleAsync();

            await page.GetByRole(AriaRole.Button, new() { Name = $"Start {VmName}", Exact = true }).ClickAsync();

            // The newest task, in the panel's bar, collapsed: it appears and finishes without a reload.
            await Assertions.Expect(page.GetByTestId("tasks-newest")).ToContainTextAsync($"Start {VmName} — OK", new() { Timeout = 30_000 });
            await page.GetByTestId("tasks-toggle").ClickAsync();
            var row = page.GetByTestId("tasks-table").Locator("tbody tr").Filter(new() { HasText = $"Start {VmName}" }).First;
            await Assertions.Expect(row).ToContainTextAsync(DashboardServer.AdminName);
            await Assertions.Expect(row.GetByTestId("task-status")).ToHaveTextAsync("ok");
            await row.ClickAsync();
            await Assertions.Expect(page.GetByTestId("task-log")).ToContainTextAsync($"OK: {VmName} is running");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("tasks-panel.png") });
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("tasks-panel-failure.png"), FullPage = true });
            throw;
        }
        finally
        {
            await api.PostAsync($"/api/v1/vms/{id}/stop", null, ct);
        }
    }
}
