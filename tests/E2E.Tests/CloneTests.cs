using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;
using Platform.Web.Services.Runtime;

namespace Platform.E2E.Tests;

/// <summary>
/// A stopped VM cloned from its Clone tab (a full copy of its disk, with progress), the clone found in the VM list,
/// started from its row there and seen running: the echo test guest, 64 MiB, no display, so it runs on any KVM host.
/// </summary>
public sealed class CloneTests : DashboardBrowserTest
{
    private const string SourceName = "clone-src-e2e";
    private const string CloneName = "clone-copy-e2e";

    [Fact]
    public async Task A_clone_made_on_the_clone_tab_is_listed_starts_and_runs()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = Server.CreateApiClient();
        var created = await api.PostAsJsonAsync("/api/v1/vms", new
        {
            name = SourceName, kernelPath = ConsoleTests.TestGuestPath("echo"), memoryMiB = 64, commandLine = "", displayEnabled = false,
            disks = new object[] { new { blank = new { sizeBytes = 16L << 20 } } },
        }, ct);
        created.EnsureSuccessStatusCode();
        var sourceId = Guid.Parse((await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!);

        var page = await Chromium.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        try
        {
            await RunAsync(page, sourceId);
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("clone-failure.png"), FullPage = true });
            await File.WriteAllTextAsync(Artifacts.PathFor("clone-failure.html"), await page.ContentAsync(), ct);
            throw;
        }
        finally
        {
            // Stop whatever runs, so no VMM outlives the test.
            var runtime = Server.Services.GetRequiredService<IVmRuntime>();
            var vms = await api.GetFromJsonAsync<JsonElement>("/api/v1/vms", ct);
            foreach (var vm in vms.EnumerateArray())
            {
                var id = Guid.Parse(vm.GetProperty("id").GetString()!);
                if (runtime.GetState(id) != VmPowerState.Stopped)
                {
                    await api.PostAsync($"/api/v1/vms/{id}/stop", null, ct);
                }
            }
        }
    }

    private async Task RunAsync(IPage page, Guid sourceId)
    {
        await SignIn.AsAdministratorAsync(page, Server);
        await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{sourceId}").ToString());
        await Interactive.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync(SourceName);

        // The Clone tab: a full copy (a VM that is no template has no other kind), named, with its progress to 100 %.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Clone" }).ClickAsync();
        await page.Locator("input[data-testid=clone-name]").FillAsync(CloneName);
        await Assertions.Expect(page.Locator("input[data-testid=clone-mode-full]")).ToBeCheckedAsync();
        await page.GetByTestId("clone-start").ClickAsync();
        var job = page.GetByTestId($"clone-job-{CloneName}");
        await Assertions.Expect(job).ToContainTextAsync("succeeded", new() { Timeout = 60_000 });
        await Assertions.Expect(job.GetByTestId("clone-bytes")).ToHaveTextAsync("100 % · 16 MiB of 16 MiB");
        await Assertions.Expect(job.GetByTestId("clone-open")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("clone-tab.png"), FullPage = true });

        // The list: both VMs, the clone stopped with its own copy of the disk.
        await page.GotoAsync(new Uri(Server.BaseAddress, "/vms").ToString());
        await Interactive.WaitForCircuitAsync(page);
        var list = page.GetByTestId("vm-list");
        await Assertions.Expect(list).ToContainTextAsync(SourceName);
        var row = list.Locator("tr").Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = CloneName, Exact = true }) });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row.GetByTestId("vm-state")).ToHaveTextAsync("stopped");
        await Assertions.Expect(row.Locator("td[data-label=Disks]")).ToHaveTextAsync("1");

        // Started from its row, it runs.
        await row.GetByRole(AriaRole.Button, new() { Name = $"Start {CloneName}", Exact = true }).ClickAsync();
        await Assertions.Expect(row.GetByTestId("vm-state")).ToHaveTextAsync("running", new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("clone-running.png"), FullPage = true });

        // Its own page says so too, and the source stayed as it was.
        await row.GetByRole(AriaRole.Link, new() { Name = CloneName, Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync(CloneName);
        await Assertions.Expect(page.Locator("div:has(> #page-title) [data-testid=vm-state]")).ToHaveTextAsync("running");
        var runtime = Server.Services.GetRequiredService<IVmRuntime>();
        runtime.GetState(sourceId).Should().Be(VmPowerState.Stopped);
    }
}
