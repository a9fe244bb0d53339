using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;
using Platform.Web.Services.Runtime;

namespace Platform.E2E.Tests;

/// <summary>
/// A long paste through the graphical console's Type box in Chromium — noVNC's key events over the /vms/{id}/vnc bridge
/// to the VMM's RFB server — reaches the kbd test guest's PS/2 keyboard whole and in order: the guest polls the i8042
/// and prints every byte, and this test turns the scancodes back into text with a US layout of its own.
/// </summary>
public sealed class ConsolePasteTests : DashboardBrowserTest
{
    private const int Characters = 2_000;
    // The guest prints a line per byte at the speed of PVM's instruction emulator: minutes on a loaded host.
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(480);

    /// <summary>A password-like paste: letters of both cases, digits, shifted and plain punctuation, spaces.</summary>
    private static string Text()
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -=[];',./`\\!@#$%^&*()_+{}:\"<>?~|";
        var random = new Random(16);
        return new string([.. Enumerable.Range(0, Characters).Select(_ => Alphabet[random.Next(Alphabet.Length)])]);
    }

    [Fact]
    public async Task Two_thousand_characters_typed_from_the_console_s_Type_box_reach_a_PS2_guest_intact_and_in_order()
    {
        var ct = TestContext.Current.CancellationToken;
        string text = Text();
        // Each character is a press and a release, and a shifted one has Shift pressed and released around it.
        int bytes = text.Sum(c => UsKeyboard.IsShifted(c) ? 4 : 2);
        using var api = Server.CreateApiClient();
        var created = await api.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "paste-e2e", kernelPath = ConsoleTests.TestGuestPath("kbd"), memoryMiB = 64, commandLine = "", displayEnabled = true,
        }, ct);
        created.EnsureSuccessStatusCode();
        var id = Guid.Parse((await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!);
        (await api.PostAsync($"/api/v1/vms/{id}/start", null, ct)).EnsureSuccessStatusCode();

        var page = await Chromium.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        try
        {
            // The guest drops whatever the keyboard held before it was ready.
            await GuestSerial.ReadUntilAsync(Server, id, "READY", TimeSpan.FromSeconds(60), ct);
            await SignIn.AsAdministratorAsync(page, Server);
            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}/console").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await Assertions.Expect(page.GetByTestId("console-status")).ToHaveTextAsync("connected", new() { Timeout = 30_000 });

            var box = page.Locator("input[data-testid=console-type-text]");
            await box.FillAsync(text);
            await Assertions.Expect(box).ToHaveValueAsync(text);
            await page.GetByTestId("console-type").ClickAsync();

            // The guest keeps running (it passes only on Ctrl-Alt-Del), so the VMM's counters can be read afterwards.
            string output = await GuestSerial.ReadUntilAsync(
                Server, id, read => ScancodesIn(read[..(read.LastIndexOf('\n') + 1)]).Count() >= bytes, $"{bytes} keyboard bytes", GuestTimeout, ct);
            UsKeyboard.Decode(ScancodesIn(output)).Should().Be(text, "every key of the paste reaches the guest, in order, with Shift where it belongs");

            // What the VMM counted: nothing dropped at the i8042, nothing refused at the RFB server.
            var stats = await Server.Services.GetRequiredService<IVmRuntimeInfo>().GetStatsAsync(id, ct);
            var devices = stats!.Devices.ToDictionary(d => d.Name, d => d.Counters);
            devices["i8042"]["dropped_bytes"].Should().Be(0);
            (devices["vnc"]["keys_to_ps2"], devices["vnc"]["keys_refused"]).Should().Be((bytes, 0));
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("console-paste-failure.png"), FullPage = true });
            throw;
        }
        finally
        {
            await api.PostAsync($"/api/v1/vms/{id}/stop", null, ct);
        }
    }

    /// <summary>The bytes of the guest's "key XX" lines, in the order it read them.</summary>
    private static IEnumerable<int> ScancodesIn(string output) =>
        output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("key ", StringComparison.Ordinal))
            .Select(l => int.Parse(l[4..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    /// <summary>Set-1 scancodes of a US keyboard back to the characters they type: the test's own table, not the VMM's.</summary>
    private static class UsKeyboard
    {
        private const int LeftShift = 0x2A, RightShift = 0x36, Release = 0x80;
        private static readonly Dictionary<int, (char Plain, char Shifted)> Keys = Build();

        public static bool IsShifted(char c) => Keys.Values.Any(k => k.Shifted == c && k.Plain != c);

        public static string Decode(IEnumerable<int> scancodes)
        {
            var text = new StringBuilder();
            bool shift = false;
            foreach (int code in scancodes)
            {
                int key = code & ~Release;
                bool down = (code & Release) == 0;
                if (key is LeftShift or RightShift)
                {
                    shift = down;
                }
                else if (down)
                {
                    text.Append(Keys.TryGetValue(key, out var k) ? (shift ? k.Shifted : k.Plain) : '\uFFFD');
                }
            }

            return text.ToString();
        }

        private static Dictionary<int, (char, char)> Build()
        {
            var keys = new Dictionary<int, (char, char)>();
            void Row(int first, string plain, string shifted)
            {
                for (int i = 0; i < plain.Length; i++)
                {
                    keys[first + i] = (plain[i], shifted[i]);
                }
            }

            Row(0x02, "1234567890-=", "!@#$%^&*()_+");
            Row(0x10, "qwertyuiop[]", "QWERTYUIOP{}");
            Row(0x1E, "asdfghjkl;'`", "ASDFGHJKL:\"~");
            Row(0x2B, "\\zxcvbnm,./", "|ZXCVBNM<>?");
            Row(0x39, " ", " ");
            return keys;
        }
    }
}
