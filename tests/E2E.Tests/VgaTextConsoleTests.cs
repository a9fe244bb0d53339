using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;

namespace Platform.E2E.Tests;

/// <summary>
/// Issue 15's legacy VGA text mode in a real browser: a VM booted by SeaBIOS from the <c>mbrstay</c> boot sector (it
/// writes through int 10h, then stays up rewriting one line each second) shows its 80×25 text screen in the Console
/// tab's noVNC as QEMU does, 720×400. The canvas's pixels are read back and the text decoded with the font the VGA BIOS
/// loads (Debian's <c>vgabios-stdvga.bin</c>), so the test reads SeaBIOS's banner and the guest's own lines from what the
/// browser drew, and sees the ticking line change, which only a picture that keeps following the text screen does.
/// </summary>
public sealed class VgaTextConsoleTests : DashboardBrowserTest
{
    private const int Columns = 80, Rows = 25, CellWidth = 9, CellHeight = 16;
    private const int Width = Columns * CellWidth, Height = Rows * CellHeight;
    private const string VgaBios = "/usr/share/seabios/vgabios-stdvga.bin";

    /// <summary>The canvas as rows of '1' (a lit dot: SeaBIOS's light grey text) and '0' (the black background); null
    /// until noVNC has sized it to the text screen.</summary>
    private const string ReadDots = """
        () => {
            const canvas = document.querySelector('[data-testid=vnc-console] canvas');
            if (!canvas || canvas.width !== 720 || canvas.height !== 400) return null;
            const data = canvas.getContext('2d').getImageData(0, 0, 720, 400).data;
            const rows = [];
            for (let y = 0; y < 400; y++) {
                const row = new Array(720);
                for (let x = 0; x < 720; x++) {
                    const i = (y * 720 + x) * 4;
                    row[x] = data[i] + data[i + 1] + data[i + 2] > 3 * 64 ? '1' : '0';
                }
                rows.push(row.join(''));
            }
            return rows;
        }
        """;

    private static readonly Regex Tick = new(@"^mbr: staying up, tick (\d)");

    [Fact]
    public async Task The_console_tab_shows_the_firmware_text_screen_and_follows_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var glyphs = FontFromVgaBios();
        using var api = Server.CreateApiClient();
        var created = await api.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "vga-text-e2e", bootMode = "Firmware", memoryMiB = 128, displayEnabled = true, onReboot = "Exit",
            disks = new[] { new { path = Path.Combine(Platform.Web.Services.SourceTree.Root!, "tests", "guests", "build", "mbrstay.img"), readOnly = true } },
        }, ct);
        created.StatusCode.Should().Be(System.Net.HttpStatusCode.Created, await created.Content.ReadAsStringAsync(ct));
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid();
        (await api.PostAsync($"/api/v1/vms/{id}/start", null, ct)).EnsureSuccessStatusCode();

        var page = await Chromium.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        string[] screen = [];
        try
        {
            // The console opens while SeaBIOS still runs: noVNC must follow the VGA BIOS's switch to text mode.
            await SignIn.AsAdministratorAsync(page, Server);
            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}/console").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await Assertions.Expect(page.GetByTestId("console-status")).ToHaveTextAsync("connected", new() { Timeout = 30_000 });

            // SeaBIOS takes some seconds here (real mode is emulated); the guest's serial says when it is through.
            await GuestSerial.ReadUntilAsync(Server, id, "PLATFORM-TEST mbr PASS", TimeSpan.FromSeconds(120), ct);
            screen = await ReadScreenAsync(page, glyphs, lines => lines.Any(l => Tick.IsMatch(l)), TimeSpan.FromSeconds(30));
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("vga-text-console.png") });

            string text = string.Join('\n', screen);
            screen[0].Should().StartWith("SeaBIOS (version ", $"SeaBIOS's banner is the screen's first line; the canvas read:\n{text}");
            screen.Should().Contain("Booting from Hard Disk...", $"the canvas read:\n{text}")
                .And.Contain("mbr: int 10h teletype says hello", "the boot sector's own int 10h text is on the screen");
            screen.Count(l => l.Length > 0).Should().BeLessThan(Rows, "the rest of the screen is blank, not noise");

            // The ticking line changes once a second: the browser's picture follows the text screen after the first frame.
            string first = Tick.Match(screen.Single(l => Tick.IsMatch(l))).Groups[1].Value;
            screen = await ReadScreenAsync(page, glyphs,
                lines => lines.Any(l => Tick.Match(l) is { Success: true } m && m.Groups[1].Value != first), TimeSpan.FromSeconds(10));
        }
        catch (Exception ex)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("vga-text-console-failure.png") });
            throw new InvalidOperationException($"The text console read:\n{string.Join('\n', screen)}", ex);
        }
        finally
        {
            await api.PostAsync($"/api/v1/vms/{id}/stop", null, ct);
        }
    }

    /// <summary>
    /// Reads the canvas as text until <paramref name="done"/> holds, polling; the last reading when it does. Fails after
    /// <paramref name="timeout"/> with what it last read.
    /// </summary>
    private static async Task<string[]> ReadScreenAsync(IPage page, IReadOnlyDictionary<string, char> glyphs, Func<string[], bool> done, TimeSpan timeout)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        string[] lines = [];
        while (true)
        {
            if (await page.EvaluateAsync<string[]?>(ReadDots) is { } dots)
            {
                dots.Should().HaveCount(Height);
                lines = Decode(dots, glyphs);
                if (done(lines))
                {
                    return lines;
                }
            }

            waited.Elapsed.Should().BeLessThan(timeout, $"the console shows the text screen (720×400) in time; it last read:\n{string.Join('\n', lines)}");
            await Task.Delay(250);
        }
    }

    /// <summary>Each text row as a string: each 9×16 cell's left 8 columns matched against the font; '?' where none matches
    /// (the cursor's cell), trailing blanks dropped.</summary>
    private static string[] Decode(string[] dots, IReadOnlyDictionary<string, char> glyphs)
    {
        var lines = new string[Rows];
        var line = new StringBuilder();
        var key = new StringBuilder(CellHeight * 8);
        for (int row = 0; row < Rows; row++)
        {
            line.Clear();
            for (int column = 0; column < Columns; column++)
            {
                key.Clear();
                for (int y = 0; y < CellHeight; y++)
                {
                    key.Append(dots[(row * CellHeight) + y], column * CellWidth, 8);
                }

                line.Append(glyphs.GetValueOrDefault(key.ToString(), '?'));
            }

            lines[row] = line.ToString().TrimEnd();
        }

        return lines;
    }

    /// <summary>
    /// The 8×16 font the VGA BIOS loads into plane 2 for text mode, from the ROM file itself: found by its 'A' (the IBM
    /// VGA font's, which every VGA BIOS carries), the 256 glyphs of 16 bytes around it. Printable ASCII only, blank as ' '.
    /// </summary>
    private static Dictionary<string, char> FontFromVgaBios()
    {
        File.Exists(VgaBios).Should().BeTrue($"{VgaBios} comes with Debian's seabios package (the README's commands install it)");
        byte[] rom = File.ReadAllBytes(VgaBios);
        byte[] letterA = [0x00, 0x00, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE, 0xC6, 0xC6, 0xC6, 0xC6, 0x00, 0x00, 0x00, 0x00];
        int at = rom.AsSpan().IndexOf(letterA);
        at.Should().BeGreaterThanOrEqualTo('A' * CellHeight, $"{VgaBios} carries the VGA 8×16 font");
        int font = at - ('A' * CellHeight);

        var glyphs = new Dictionary<string, char>();
        for (int character = 0x7E; character >= 0x20; character--)
        {
            var dots = new StringBuilder(CellHeight * 8);
            foreach (byte bits in rom.AsSpan(font + (character * CellHeight), CellHeight))
            {
                for (int x = 0; x < 8; x++)
                {
                    dots.Append((bits & (0x80 >> x)) != 0 ? '1' : '0');
                }
            }

            glyphs.TryAdd(dots.ToString(), (char)character);
        }

        glyphs[new string('0', CellHeight * 8)] = ' ';
        return glyphs;
    }
}
