using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;

namespace Platform.E2E.Tests;

/// <summary>
/// A newcomer's first day, in one browser session, as ./platform run leaves the dashboard: the administrator signs in
/// with the password set for them and must choose their own, the sample VM is already running and its console takes
/// typed text, a VM is made in the wizard, and a colleague is granted that VM and sees only it.
/// </summary>
public sealed class FirstDayWalkTests : IAsyncLifetime
{
    private const string NewPassword = "my-own-first-day-passphrase";
    private const string ColleaguePassword = "colleague-password-for-browser-tests";
    private readonly DashboardServer _server = new(new Dictionary<string, string> { ["Platform:SeedSample"] = "true" });
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => (_playwright, _browser) = await Browser.LaunchAsync();

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await StopEveryVmAsync(); // The sample starts with the dashboard; a VMM outlives its dashboard by design.
        await _server.DisposeAsync();
    }

    private async Task StopEveryVmAsync()
    {
        var runtime = _server.Services.GetRequiredService<IVmRuntime>();
        await using var db = await _server.Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync();
        foreach (var id in await db.VirtualMachines.IgnoreAutoIncludes().Select(vm => vm.Id).ToListAsync())
        {
            try
            {
                await runtime.StopAsync(id, CancellationToken.None);
            }
            catch (VmRuntimeException)
            {
                // Not running.
            }
        }
    }

    [Fact]
    public async Task Sign_in_change_the_password_type_on_the_sample_s_console_create_a_vm_and_grant_it()
    {
        await MustChangePasswordAsync(DashboardServer.AdminName); // As the first start leaves its one-time password.
        var page = await _browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        // Each step's time goes to first-day-steps.txt beside the screenshots: where a slow or failed walk spent it.
        var steps = new StepLog(Artifacts.PathFor("first-day-steps.txt"));
        string step = steps.Begin("sign in");
        try
        {
            await SignIn.AsAsync(page, _server.BaseAddress, DashboardServer.AdminName, DashboardServer.AdminPassword);
            await Assertions.Expect(page.GetByTestId("must-change-password")).ToBeVisibleAsync();

            step = steps.Begin("change the password");
            await page.Locator("#current").FillAsync(DashboardServer.AdminPassword);
            await page.Locator("#new").FillAsync(NewPassword);
            await page.Locator("#confirm").FillAsync(NewPassword);
            await page.GetByTestId("change-password-submit").ClickAsync();
            await page.WaitForURLAsync(url => url.EndsWith("/vms", StringComparison.Ordinal), new() { Timeout = 60_000 });

            step = steps.Begin("the sample VM runs");
            await Interactive.WaitForCircuitAsync(page);
            // The state chip says "running" in lower case (the first run of this walk waited 60 s for "Running").
            var sampleRow = page.GetByTestId("vm-list").Locator("tbody tr").Filter(new() { HasText = "test-guest-sample" });
            await Assertions.Expect(sampleRow).ToHaveCountAsync(1, new() { Timeout = 30_000 });
            await Assertions.Expect(sampleRow.GetByTestId("vm-state")).ToHaveTextAsync("running", new() { Timeout = 60_000 });
            Guid sample = await VmIdAsync("test-guest-sample");

            step = steps.Begin("type on the sample's console");
            await page.GotoAsync(new Uri(_server.BaseAddress, $"/vms/{sample}/console").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await Assertions.Expect(page.GetByTestId("console-status")).ToHaveTextAsync("connected", new() { Timeout = 30_000 });
            await page.Locator("input[data-testid=console-type-text]").FillAsync("day1");
            await page.GetByTestId("console-type").ClickAsync();
            await GuestSerial.ReadUntilAsync(_server, sample, "fb: key '1'", TimeSpan.FromSeconds(30), Ct);

            step = steps.Begin("create a VM in the wizard");
            await page.GotoAsync(new Uri(_server.BaseAddress, "/vms").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await page.GetByTestId("new-vm").ClickAsync();
            await page.Locator("input[data-testid=field-name]").FillAsync("first-own-vm");
            await page.GetByTestId("wizard-next").ClickAsync();
            await Assertions.Expect(page.GetByTestId("wizard-step-1")).ToBeVisibleAsync();
            await page.GetByTestId("wizard-next").ClickAsync();
            await Assertions.Expect(page.GetByTestId("wizard-step-2")).ToBeVisibleAsync();
            // The kernel from a host path: the library holds the Debian kernel only where guest-images.sh ran (it then is
            // the default source), and this host's KVM could not boot it.
            await page.GetByTestId("field-kernel-source").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = "host path", Exact = true }).ClickAsync();
            await page.Locator("input[data-testid=field-kernel-path]").FillAsync(ConsoleTests.TestGuestPath("echo"));
            await page.GetByTestId("wizard-next").ClickAsync();
            await Assertions.Expect(page.GetByTestId("wizard-step-3")).ToBeVisibleAsync();
            await page.GetByTestId("wizard-next").ClickAsync();
            await Assertions.Expect(page.GetByTestId("wizard-step-4")).ToBeVisibleAsync();
            await page.Locator("input[data-testid=field-cloud-init]").CheckAsync();
            await page.Locator("input[data-testid=field-cloud-init-user]").FillAsync("day1");
            await page.Locator("input[data-testid=field-cloud-init-password]").FillAsync("day1-guest-password");
            await page.GetByTestId("wizard-next").ClickAsync();
            await Assertions.Expect(page.GetByTestId("wizard-review")).ToContainTextAsync("user day1");
            await page.GetByTestId("wizard-save").ClickAsync();
            await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("first-own-vm", new() { Timeout = 30_000 });

            step = steps.Begin("grant a colleague the new VM");
            await _server.CreateUserAsync("colleague", ColleaguePassword);
            await page.GotoAsync(new Uri(_server.BaseAddress, "/admin/users").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await page.GetByRole(AriaRole.Tab, new() { Name = "Grants" }).ClickAsync();
            await page.GetByTestId("grant-subject").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = "colleague", Exact = true }).ClickAsync();
            await page.GetByTestId("grant-path").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = "first-own-vm" }).ClickAsync();
            await page.GetByTestId("grant-role").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = "VMUser", Exact = true }).ClickAsync();
            await page.GetByTestId("add-grant").ClickAsync();
            var grant = page.GetByTestId("grant-list").Locator("tbody tr").Filter(new() { HasText = "colleague" });
            await Assertions.Expect(grant).ToContainTextAsync("first-own-vm");
            await Assertions.Expect(grant).ToContainTextAsync("VMUser");

            step = steps.Begin("the colleague sees that VM and no other");
            page = await (await _browser.NewContextAsync()).NewPageAsync();
            await SignIn.AsAsync(page, _server.BaseAddress, "colleague", ColleaguePassword);
            await page.GotoAsync(new Uri(_server.BaseAddress, "/vms").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await Assertions.Expect(page.GetByTestId("vm-list")).ToContainTextAsync("first-own-vm");
            await Assertions.Expect(page.GetByTestId("vm-list")).Not.ToContainTextAsync("test-guest-sample");
        }
        catch (Exception ex)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("first-day-failure.png"), FullPage = true });
            steps.Fail(ex);
            throw new InvalidOperationException($"The first day failed at: {step}", ex);
        }

        steps.End();
    }

    private async Task MustChangePasswordAsync(string userName)
    {
        await using var db = await _server.Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(Ct);
        var admin = await db.Users.FirstAsync(u => u.UserName == userName, Ct);
        admin.MustChangePassword = true;
        await db.SaveChangesAsync(Ct);
    }

    private async Task<Guid> VmIdAsync(string name)
    {
        await using var db = await _server.Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(Ct);
        return await db.VirtualMachines.IgnoreAutoIncludes().Where(vm => vm.Name == name).Select(vm => vm.Id).SingleAsync(Ct);
    }

    /// <summary>Writes each step's start and length to a file as the walk goes, so a hung walk still leaves it.</summary>
    private sealed class StepLog(string path)
    {
        private readonly System.Diagnostics.Stopwatch _total = System.Diagnostics.Stopwatch.StartNew();
        private readonly System.Diagnostics.Stopwatch _step = new();
        private string? _name;

        public string Begin(string name)
        {
            End();
            _name = name;
            _step.Restart();
            return name;
        }

        public void End()
        {
            if (_name is not null)
            {
                File.AppendAllText(path, $"{_total.Elapsed.TotalSeconds,7:0.0} s  {_step.Elapsed.TotalSeconds,6:0.0} s  {_name}\n");
                _name = null;
            }
        }

        public void Fail(Exception ex)
        {
            File.AppendAllText(path, $"{_total.Elapsed.TotalSeconds,7:0.0} s  failed at {_name}: {ex.Message}\n");
            _name = null;
        }
    }
}
