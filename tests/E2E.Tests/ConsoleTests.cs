using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;

namespace Platform.E2E.Tests;

/// <summary>The serial console in a real browser: xterm.js over the WebSocket bridge to a running test guest.</summary>
public sealed class ConsoleTests : DashboardBrowserTest
{
    [Fact]
    public async Task The_serial_console_shows_the_guest_and_sends_what_is_typed()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = Server.CreateApiClient();
        var created = await api.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "serial-e2e", kernelPath = TestGuestPath("echo"), memoryMiB = 64, commandLine = "", displayEnabled = false,
        }, ct);
        created.EnsureSuccessStatusCode();
        string id = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!;
        (await api.PostAsync($"/api/v1/vms/{id}/start", null, ct)).EnsureSuccessStatusCode();

        var page = await Chromium.NewPageAsync();
        try
        {
            await SignIn.AsAdministratorAsync(page, Server);
            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}/serial-console").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await Assertions.Expect(page.GetByTestId("serial-status")).ToHaveTextAsync("connected");
            var screen = page.Locator(".xterm-rows");
            await Assertions.Expect(screen).ToContainTextAsync("READY", new() { Timeout = 30_000 });

            await page.GetByTestId("serial-console").ClickAsync();
            await page.Keyboard.TypeAsync("typed in chromium");
            await Assertions.Expect(screen).ToContainTextAsync("TYPED IN CHROMIUM", new() { Timeout = 30_000 });
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("serial-console-failure.png"), FullPage = true });
            throw;
        }
        finally
        {
            await api.PostAsync($"/api/v1/vms/{id}/stop", null, ct);
        }
    }

    internal static string TestGuestPath(string name) =>
        Platform.Web.Services.SourceTree.TestGuest(name) ?? throw new FileNotFoundException($"Test guest {name}.elf is missing: run make -C tests/guests.");
}
