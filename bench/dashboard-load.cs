// A dashboard user, for bench/dashboard-memory.sh (run with `dotnet build bench/dashboard-load.cs`): in Debian's
// Chromium through Playwright, signs in, makes an API token on the tokens page, defines VMS echo-guest VMs through
// the API and starts RUNNING of them, then for MINUTES keeps USERS browser tabs busy the way people use the
// dashboard: the VM list (scrolled), a VM's Summary with its charts, the Host page, the event log, each tab closed
// and opened again, so circuits come and go; beside them it reads the API (the VM list, a VM's day of history). At
// the end it stops the VMs it started. Prints one line: rounds= api_calls= vms= running= start_s= start_ms_p50=
// start_ms_p90= start_ms_last100= list_ms=.
//
//   dashboard-load.cs BASE_URL USER PASSWORD KERNEL MINUTES VMS RUNNING USERS
// Environment: START_PARALLEL (starts in flight at once, 1 unless set), LOAD_DISPLAY=1 (the VMs get a display, as a
// new VM does by default), LOAD_HOLD_FILE (after the starts, write their figures there and wait until the file is
// removed, while bench/fleet-dashboard.sh measures the idle fleet).
#:package Microsoft.Playwright
#:property PublishAot=false
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

var baseUrl = new Uri(args[0]);
string user = args[1], password = args[2], kernel = args[3];
var duration = TimeSpan.FromMinutes(double.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture));
int vmCount = int.Parse(args[5]), runningCount = int.Parse(args[6]), users = int.Parse(args[7]);

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = "/usr/bin/chromium",
    Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"],
});
var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });

var page = await context.NewPageAsync();
await page.GotoAsync(new Uri(baseUrl, "/account/login").ToString());
await page.Locator("#username").FillAsync(user);
await page.Locator("#password").FillAsync(password);
await page.GetByTestId("login-submit").ClickAsync();
await page.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal), new() { Timeout = 60_000 });

await page.GotoAsync(new Uri(baseUrl, "/account/tokens").ToString());
await WaitForCircuit(page);
await page.Locator("input[data-testid=token-name]").FillAsync("dashboard-load"); // MudTextField puts the test id on its input
// Every privilege the admin has (the page starts with read-only ones): the driver creates and starts VMs.
foreach (var box in await page.Locator("input[type=checkbox]").AllAsync())
{
    if (!await box.IsCheckedAsync())
    {
        await box.CheckAsync(new() { Force = true });
    }
}

await page.GetByTestId("create-token").ClickAsync();
string token = (await page.GetByTestId("token-secret").InnerTextAsync()).Trim();
await page.CloseAsync();

using var api = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(2) };
api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
bool display = Environment.GetEnvironmentVariable("LOAD_DISPLAY") == "1";
int startParallel = int.TryParse(Environment.GetEnvironmentVariable("START_PARALLEL"), out int p) && p > 0 ? p : 1;
var ids = new Guid[vmCount];
await Parallel.ForAsync(0, vmCount, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
{
    var created = await api.PostAsJsonAsync("/api/v1/vms", new
    {
        name = $"load-{i:D4}", kernelPath = kernel, memoryMiB = 64, commandLine = "", displayEnabled = display,
    }, ct);
    created.EnsureSuccessStatusCode();
    ids[i] = Guid.Parse((await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!);
});

// Each start's answer time (the API answers once the VMM is up), in the order they were sent: later starts must not
// slow down (issue 22).
var startMs = new double[runningCount];
var starting = Stopwatch.StartNew();
await Parallel.ForAsync(0, runningCount, new ParallelOptions { MaxDegreeOfParallelism = startParallel }, async (i, ct) =>
{
    long sent = Stopwatch.GetTimestamp();
    var answer = await api.PostAsync($"/api/v1/vms/{ids[i]}/start", null, ct);
    startMs[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
    if (!answer.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"start of VM {i} refused: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync(ct)}");
    }
});
string startFigures = runningCount == 0 ? "" : string.Create(System.Globalization.CultureInfo.InvariantCulture,
    $" start_s={starting.Elapsed.TotalSeconds:0.0} start_ms_p50={Percentile(startMs, 0.5):0} start_ms_p90={Percentile(startMs, 0.9):0}"
    + $" start_ms_first100={startMs.Take(100).Average():0} start_ms_last100={startMs.TakeLast(100).Average():0}");
if (Environment.GetEnvironmentVariable("LOAD_HOLD_FILE") is { Length: > 0 } hold)
{
    await File.WriteAllTextAsync(hold, startFigures.Trim() + "\n");
    while (File.Exists(hold))
    {
        await Task.Delay(500);
    }
}

int rounds = 0, apiCalls = 0;
var listMs = new System.Collections.Concurrent.ConcurrentBag<double>();
var clock = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, users).Select(async u =>
{
    var random = new Random(u);
    while (clock.Elapsed < duration)
    {
        var tab = await context.NewPageAsync();
        try
        {
            long navigating = Stopwatch.GetTimestamp();
            await tab.GotoAsync(new Uri(baseUrl, "/vms").ToString());
            await WaitForCircuit(tab);
            // Navigation → interactive: the circuit has rendered the list's first row.
            await tab.Locator("[data-testid=vm-list] tbody tr a[href^='vms/']").First.WaitForAsync(new() { Timeout = 60_000 });
            listMs.Add(Stopwatch.GetElapsedTime(navigating).TotalMilliseconds);
            await tab.Locator(".mud-table-container").EvaluateAsync("el => el.scrollTop = el.scrollHeight");
            var id = ids[random.Next(Math.Min(ids.Length, runningCount + 5))];
            await tab.GotoAsync(new Uri(baseUrl, $"/vms/{id}").ToString());
            await WaitForCircuit(tab);
            await tab.WaitForTimeoutAsync(2_000); // the Summary's live numbers and charts update while it is open
            await tab.GotoAsync(new Uri(baseUrl, "/host").ToString());
            await WaitForCircuit(tab);
            await tab.GotoAsync(new Uri(baseUrl, "/events").ToString());
            await WaitForCircuit(tab);
        }
        finally
        {
            await tab.CloseAsync();
        }

        (await api.GetAsync("/api/v1/vms")).EnsureSuccessStatusCode();
        (await api.GetAsync($"/api/v1/vms/{ids[random.Next(ids.Length)]}/history?range=day")).EnsureSuccessStatusCode();
        Interlocked.Add(ref apiCalls, 2);
        Interlocked.Increment(ref rounds);
    }
}));

await Parallel.ForAsync(0, runningCount, new ParallelOptions { MaxDegreeOfParallelism = startParallel },
    async (i, ct) => await api.PostAsync($"/api/v1/vms/{ids[i]}/stop", null, ct));

string listFigure = listMs.IsEmpty ? "" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $" list_ms={Percentile([.. listMs], 0.5):0}");
Console.WriteLine($"rounds={rounds} api_calls={apiCalls} vms={vmCount} running={runningCount}{startFigures}{listFigure}");

static double Percentile(double[] values, double q)
{
    var sorted = values.Order().ToArray();
    return sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
}

static Task WaitForCircuit(IPage page) =>
    page.Locator("#blazor-interactive").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached, Timeout = 60_000 });
