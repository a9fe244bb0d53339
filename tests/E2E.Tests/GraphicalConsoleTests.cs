using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;

namespace Platform.E2E.Tests;

/// <summary>
/// The graphical console in a real browser: noVNC through the /vms/{id}/vnc bridge to the VMM's RFB server, on the
/// fb test guest, which draws colour bars and echoes typed keys on its serial port.
/// </summary>
public sealed class GraphicalConsoleTests : DashboardBrowserTest
{
    [Fact]
    public async Task NoVNC_shows_the_guest_s_picture_and_text_typed_from_the_toolbar_reaches_the_guest()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = Server.CreateApiClient();
        var created = await api.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "vnc-e2e", kernelPath = ConsoleTests.TestGuestPath("fb"), memoryMiB = 64, commandLine = "", displayEnabled = true,
        }, ct);
        created.EnsureSuccessStatusCode();
        string id = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!;
        (await api.PostAsync($"/api/v1/vms/{id}/start", null, ct)).EnsureSuccessStatusCode();

        var page = await Chromium.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        try
        {
            await SignIn.AsAdministratorAsync(page, Server);
            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}/console").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await Assertions.Expect(page.GetByTestId("console-status")).ToHaveTextAsync("connected", new() { Timeout = 30_000 });

            // The first bar is white and the second yellow: sample the canvas where they are, once the guest has drawn.
            await page.WaitForFunctionAsync(
                """
                () => {
                    const canvas = document.querySelector('[data-testid=vnc-console] canvas');
                    if (!canvas || canvas.width < 640) return false;
                    const ctx = canvas.getContext('2d');
                    const white = ctx.getImageData(40, 100, 1, 1).data, yellow = ctx.getImageData(120, 100, 1, 1).data;
                    return white[0] > 240 && white[1] > 240 && white[2] > 240 && yellow[0] > 240 && yellow[1] > 240 && yellow[2] < 16;
                }
                """, null, new() { Timeout = 30_000 });

            await page.Locator("input[data-testid=console-type-text]").FillAsync("hi");
            await page.GetByTestId("console-type").ClickAsync();
            await ReadSerialUntilAsync(id, "fb: key 'i'", ct);
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("vnc-console-failure.png"), FullPage = true });
            throw;
        }
        finally
        {
            await api.PostAsync($"/api/v1/vms/{id}/stop", null, ct);
        }
    }

    /// <summary>Reads the guest's serial console through the bridge, as the Serial tab does.</summary>
    private async Task ReadSerialUntilAsync(string id, string marker, CancellationToken ct)
    {
        using var socket = await Server.OpenConsoleAsync(Guid.Parse(id), Platform.Web.Security.ConsoleKind.Serial, ct);
        var text = new System.Text.StringBuilder();
        byte[] buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!text.ToString().Contains(marker, StringComparison.Ordinal))
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            result.MessageType.Should().Be(System.Net.WebSockets.WebSocketMessageType.Binary, $"serial so far: {text}");
            text.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, result.Count));
        }

    }
}
