// The browser console over slow links, for bench/console-link.sh (issue 20: "measure noVNC in Playwright against a
// throttled connection"): in Debian's Chromium through Playwright, signs in, makes a VM of the fb test guest drawing
// its fill scene (the same as bench/vnc.sh's) and starts it, then for each link profile opens the VM's console (noVNC
// through the dashboard's WebSocket bridge, with noVNC's own settings, as a user gets it) in a page whose network
// Chromium throttles (DevTools' Network.emulateNetworkConditions, which WebSockets obey since Chromium 99). Over a
// window it counts what the VMM's VNC server sent (query-stats on its control socket: updates and bytes) and what the
// page received (DevTools' WebSocket frame events: messages and payload bytes), so the bridge's share is the
// difference plus the WebSocket headers; then it pauses the guest and times how long the page still receives
// pictures (the lag: what was queued between the guest and the page). Prints one line per profile.
//
//   console-link.cs BASE_URL USER PASSWORD KERNEL RUNTIME_ROOT SECONDS WARMUP PROFILE...
//   PROFILE: NAME=LATENCY_MS/KBIT (KBIT 0: no limit), as Chromium applies them: the latency is added once per
//   round trip, the rate to each direction.
#:package Microsoft.Playwright
#:project ../src/Contracts/Contracts.csproj
#:property PublishAot=false
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.Contracts.Control;

var baseUrl = new Uri(args[0]);
string user = args[1], password = args[2], kernel = args[3], runtimeRoot = args[4];
double seconds = double.Parse(args[5], CultureInfo.InvariantCulture), warmup = double.Parse(args[6], CultureInfo.InvariantCulture);
var profiles = args[7..].Select(Profile.Parse).ToList();

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = "/usr/bin/chromium",
    Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"],
});
var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
var signIn = await context.NewPageAsync();
await signIn.GotoAsync(new Uri(baseUrl, "/account/login").ToString());
await signIn.Locator("#username").FillAsync(user);
await signIn.Locator("#password").FillAsync(password);
await signIn.GetByTestId("login-submit").ClickAsync();
await signIn.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal), new() { Timeout = 60_000 });

// An API token with every privilege the admin has, made on the tokens page (as bench/dashboard-load.cs makes one).
await signIn.GotoAsync(new Uri(baseUrl, "/account/tokens").ToString());
await signIn.Locator("#blazor-interactive").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 60_000 });
await signIn.Locator("input[data-testid=token-name]").FillAsync("console-link");
foreach (var box in await signIn.Locator("input[type=checkbox]").AllAsync())
{
    if (!await box.IsCheckedAsync())
    {
        await box.CheckAsync(new() { Force = true });
    }
}

await signIn.GetByTestId("create-token").ClickAsync();
var api = context.APIRequest;
var headers = new Dictionary<string, string> { ["Authorization"] = "Bearer " + (await signIn.GetByTestId("token-secret").InnerTextAsync()).Trim() };
var created = await api.PostAsync(new Uri(baseUrl, "/api/v1/vms").ToString(), new()
{
    Headers = headers,
    DataObject = new { name = "console-link", kernelPath = kernel, memoryMiB = 64, commandLine = "mode=1024x768 bench=fill fps=60", displayEnabled = true },
});
Check(created, "creating the VM");
string id = (await created.JsonAsync())!.Value.GetProperty("id").GetString()!;
Check(await api.PostAsync(new Uri(baseUrl, $"/api/v1/vms/{id}/start").ToString(), new() { Headers = headers }), "starting the VM");
await signIn.CloseAsync();

// The runtime folder is named by the id without dashes (SupervisorContext.RuntimeDirectoryOf).
string controlSocket = Path.Combine(runtimeRoot, Guid.Parse(id).ToString("N"), ControlProtocol.ControlSocketName);
try
{
    await WaitForTheSceneAsync();
    foreach (var profile in profiles)
    {
        Console.WriteLine(await MeasureAsync(profile));
    }
}
finally
{
    await api.PostAsync(new Uri(baseUrl, $"/api/v1/vms/{id}/stop").ToString(), new() { Headers = headers });
}

async Task<string> MeasureAsync(Profile profile)
{
    var page = await context.NewPageAsync();
    var cdp = await context.NewCDPSessionAsync(page);
    await cdp.SendAsync("Network.enable");
    if (profile.LatencyMs > 0 || profile.Kbit > 0)
    {
        double bytesPerSecond = profile.Kbit > 0 ? profile.Kbit * 1000.0 / 8 : -1; // -1: no limit
        await cdp.SendAsync("Network.emulateNetworkConditions", new()
        {
            ["offline"] = false, ["latency"] = profile.LatencyMs, ["downloadThroughput"] = bytesPerSecond, ["uploadThroughput"] = bytesPerSecond,
        });
    }

    long messages = 0, payload = 0, headerBytes = 0, lastMessageAt = 0;
    var since = Stopwatch.StartNew();
    cdp.Event("Network.webSocketFrameReceived").OnEvent += (_, e) =>
    {
        var response = e!.Value.GetProperty("response");
        // Binary frames (opcode 2) come base64-encoded; the server's frames are unmasked: 2, 4 or 10 header bytes.
        long length = response.GetProperty("opcode").GetInt32() == 2
            ? Convert.FromBase64String(response.GetProperty("payloadData").GetString()!).LongLength
            : response.GetProperty("payloadData").GetString()!.Length;
        Interlocked.Increment(ref messages);
        Interlocked.Add(ref payload, length);
        Interlocked.Add(ref headerBytes, length < 126 ? 2 : length < 65536 ? 4 : 10);
        if (length >= 1024)
        {
            Interlocked.Exchange(ref lastMessageAt, since.ElapsedMilliseconds); // a picture's bytes, not a fence or a cursor
        }
    };

    var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
    page.Console += (_, message) => said.Enqueue($"{message.Type}: {message.Text}");
    await page.GotoAsync(new Uri(baseUrl, $"/vms/{id}/screen").ToString());
    try
    {
        await page.GetByTestId("console-status").Filter(new() { HasText = "connected" }).WaitForAsync(new() { Timeout = 120_000 });
    }
    catch (TimeoutException)
    {
        string status = await page.GetByTestId("console-status").InnerTextAsync(new() { Timeout = 5_000 });
        throw new TimeoutException($"{profile.Name}: the console did not connect (status \"{status}\"); the page said: {string.Join(" | ", said)}");
    }
    await page.WaitForTimeoutAsync((float)(warmup * 1000));

    var (updates0, sent0) = await VncCountersAsync();
    long messages0 = Interlocked.Read(ref messages), payload0 = Interlocked.Read(ref payload), headers0 = Interlocked.Read(ref headerBytes);
    var clock = Stopwatch.StartNew();
    await page.WaitForTimeoutAsync((float)(seconds * 1000));
    double elapsed = clock.Elapsed.TotalSeconds;
    var (updates1, sent1) = await VncCountersAsync();
    long received = Interlocked.Read(ref payload) - payload0, framing = Interlocked.Read(ref headerBytes) - headers0;
    long sent = sent1 - sent0, frames = updates1 - updates0;

    // How far behind the guest the picture is: the guest is paused, so the screen stops changing, and whatever the
    // page still receives after that was queued on the way (the VMM's socket, the bridge, the link). The last message's
    // arrival after the pause is the lag a user sees.
    await using (var control = await VmmControlClient.ConnectAsync(controlSocket))
    {
        await control.PauseAsync();
    }

    long pausedAt = since.ElapsedMilliseconds;
    while (since.ElapsedMilliseconds - Math.Max(pausedAt, Interlocked.Read(ref lastMessageAt)) < 3000 && since.ElapsedMilliseconds - pausedAt < 120_000)
    {
        await Task.Delay(100);
    }

    long lagMs = Math.Max(0, Interlocked.Read(ref lastMessageAt) - pausedAt);
    await using (var control = await VmmControlClient.ConnectAsync(controlSocket))
    {
        await control.ResumeAsync();
    }

    await page.CloseAsync();
    foreach (string line in said.Where(l => l.StartsWith("error:", StringComparison.Ordinal) || l.StartsWith("warning:", StringComparison.Ordinal)))
    {
        Console.Error.WriteLine($"{profile.Name}: the page said {line}");
    }

    return string.Create(CultureInfo.InvariantCulture,
        $"profile={profile.Name} latency_ms={profile.LatencyMs} kbit={profile.Kbit} seconds={elapsed:F1} fps={frames / elapsed:F1} " +
        $"bytes_per_frame={(frames > 0 ? sent / frames : 0)} vnc_bytes_per_second={sent / elapsed:F0} ws_bytes_per_second={(received + framing) / elapsed:F0} " +
        $"ws_messages={Interlocked.Read(ref messages) - messages0} bridge_overhead_pct={(sent > 0 ? (received + framing - sent) * 100.0 / sent : 0):F2} lag_ms={lagMs}");
}

// The guest draws its four pages of noise first (emulated under PVM: up to a minute), then flips them at 60 Hz: a
// console open meanwhile sees a still screen. Waits until a viewer gets noise, as bench/vnc.sh waits for "flips".
async Task WaitForTheSceneAsync()
{
    var page = await context.NewPageAsync();
    var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
    page.Console += (_, message) => said.Enqueue($"{message.Type}: {message.Text}");
    await page.GotoAsync(new Uri(baseUrl, $"/vms/{id}/screen").ToString());
    var deadline = Stopwatch.StartNew();
    var (updatesBefore, bytesBefore) = await VncCountersAsync();
    while (true)
    {
        await page.WaitForTimeoutAsync(1000);
        var (updates, bytes) = await VncCountersAsync();
        // Noise: whole-screen updates of several kilobytes each (a still screen sends next to nothing).
        if (updates > updatesBefore && (bytes - bytesBefore) / (updates - updatesBefore) > 4000)
        {
            break;
        }

        (updatesBefore, bytesBefore) = (updates, bytes);
        if (deadline.Elapsed > TimeSpan.FromMinutes(3))
        {
            throw new TimeoutException($"the fb guest's fill scene did not start within 3 minutes; the page said: {string.Join(" | ", said)}");
        }
    }

    await page.CloseAsync();
}

async Task<(long Updates, long BytesSent)> VncCountersAsync()
{
    await using var client = await VmmControlClient.ConnectAsync(controlSocket);
    var stats = await client.QueryStatsAsync();
    var vnc = stats.Devices.Single(d => d.Kind == "vnc-server").Counters;
    return (vnc["updates"], vnc["bytes_sent"]);
}

static void Check(IAPIResponse response, string what)
{
    if (!response.Ok)
    {
        throw new InvalidOperationException($"{what}: HTTP {response.Status} {response.TextAsync().GetAwaiter().GetResult()}");
    }
}

internal sealed record Profile(string Name, int LatencyMs, int Kbit)
{
    public static Profile Parse(string text)
    {
        string[] nameAndLink = text.Split('=', 2);
        string[] link = nameAndLink[1].Split('/', 2);
        return new Profile(nameAndLink[0], int.Parse(link[0], CultureInfo.InvariantCulture), int.Parse(link[1], CultureInfo.InvariantCulture));
    }
}
