using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;

namespace Platform.E2E.Tests;

/// <summary>
/// Issue 15's planar VGA graphics in a real browser: a VM booted by SeaBIOS from the <c>vga12</c> boot sector, which
/// sets mode 12h through int 10h and draws a known picture with each write mode (tests/guests/boot/vga.S), shows that
/// picture in the Console tab's noVNC at 640×480. The canvas's pixels are read back at the edges of each block, the
/// same points <c>FirmwareGraphicsModeTests</c> checks through a VNC client and against QEMU.
/// </summary>
public sealed class VgaGraphicsConsoleTests : DashboardBrowserTest
{
    /// <summary>The canvas's colour at each point as 0xRRGGBB, or null until noVNC has sized it to mode 12h.</summary>
    private const string ReadPoints = """
        (points) => {
            const canvas = document.querySelector('[data-testid=vnc-console] canvas');
            if (!canvas || canvas.width !== 640 || canvas.height !== 480) return null;
            const context = canvas.getContext('2d');
            return points.map(([x, y]) => {
                const d = context.getImageData(x, y, 1, 1).data;
                return (d[0] << 16) | (d[1] << 8) | d[2];
            });
        }
        """;

    // Point, colour and why: vga12's picture (FirmwareGraphicsModeTests.ShouldShowVga12Picture).
    private static readonly (int X, int Y, uint Rgb, string Why)[] Expected =
    [
        (0, 0, 0x0000AA, "colour 1 by set/reset"),
        (10, 10, 0xFFFF55, "int 10h AH=0Ch with XOR: 1 ^ 0Fh = 0Eh"),
        (200, 0, 0xAA0000, "plane 2 alone through the map mask"),
        (200, 60, 0xAA5500, "plane 1 added to the left four pixels of each byte: colour 6"),
        (320, 0, 0xFFFF55, "write mode 2 under bit mask AAh: even pixels"),
        (321, 0, 0x000000, "odd pixels keep the latches"),
        (500, 0, 0xFFFFFF, "colour 2 after int 10h set palette register 2 to 3Fh"),
        (0, 150, 0xFF00FF, "colour 7 after int 10h set DAC register 7"),
        (250, 150, 0xFFFFFF, "the diagonal int 10h AH=0Ch drew"),
        (639, 479, 0xFF5555, "the last pixel, colour 0Ch"),
    ];

    [Fact]
    public async Task The_console_tab_shows_the_mode_12h_picture_the_guest_drew()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = Server.CreateApiClient();
        var created = await api.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "vga-graphics-e2e", bootMode = "Firmware", memoryMiB = 128, displayEnabled = true, onReboot = "Exit",
            disks = new[] { new { path = Path.Combine(Platform.Web.Services.SourceTree.Root!, "tests", "guests", "build", "vga12.img"), readOnly = true } },
        }, ct);
        created.StatusCode.Should().Be(System.Net.HttpStatusCode.Created, await created.Content.ReadAsStringAsync(ct));
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid();
        (await api.PostAsync($"/api/v1/vms/{id}/start", null, ct)).EnsureSuccessStatusCode();

        var page = await Chromium.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        uint[] seen = [];
        try
        {
            await SignIn.AsAdministratorAsync(page, Server);
            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}/console").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await Assertions.Expect(page.GetByTestId("console-status")).ToHaveTextAsync("connected", new() { Timeout = 30_000 });

            // SeaBIOS takes some seconds here (real mode is emulated); the guest's serial says when the picture is done.
            await GuestSerial.ReadUntilAsync(Server, id, "PLATFORM-TEST vga12 PASS", TimeSpan.FromSeconds(120), ct);
            int[][] points = [.. Expected.Select(e => new[] { e.X, e.Y })];
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                seen = (await page.EvaluateAsync<uint[]?>(ReadPoints, points)) ?? [];
                if ((seen.Length == Expected.Length && Expected.Select((e, i) => Close(seen[i], e.Rgb)).All(c => c)) || DateTime.UtcNow > deadline)
                {
                    break;
                }

                await Task.Delay(250, ct);
            }

            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("vga-graphics-console.png") });
            seen.Should().HaveCount(Expected.Length, "noVNC's canvas is sized to mode 12h, 640x480");
            for (int i = 0; i < Expected.Length; i++)
            {
                Close(seen[i], Expected[i].Rgb).Should().BeTrue(
                    $"({Expected[i].X},{Expected[i].Y}) is {Expected[i].Why}: expected {Expected[i].Rgb:X6}, the canvas has {seen[i]:X6}");
            }
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("vga-graphics-console-failure.png") });
            throw;
        }
        finally
        {
            await api.PostAsync($"/api/v1/vms/{id}/stop", null, ct);
        }
    }

    /// <summary>Equal within a few steps per channel: the picture may reach noVNC through Tight's lossy JPEG path.</summary>
    private static bool Close(uint actual, uint expected) =>
        Enumerable.Range(0, 3).All(c => Math.Abs((int)((actual >> (8 * c)) & 0xFF) - (int)((expected >> (8 * c)) & 0xFF)) <= 8);
}
