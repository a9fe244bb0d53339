using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;

namespace Platform.E2E.Tests;

/// <summary>The create wizard in a real browser: a VM made through it shows in the list, on a desktop and on a phone.</summary>
public sealed class VmWizardTests : DashboardBrowserTest
{
    [Theory]
    [InlineData("wizard-desktop", 1280)]
    [InlineData("wizard-phone", 360)]
    public async Task A_vm_created_in_the_wizard_shows_in_the_list(string name, int width)
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = 800 } });
        var page = await context.NewPageAsync();
        try
        {
            await CreateThroughTheWizardAsync(page, name, width);
        }
        catch
        {
            // What the browser showed when it went wrong, for whoever reads the test's output.
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor($"{name}-failure.png"), FullPage = true });
            await File.WriteAllTextAsync(Artifacts.PathFor($"{name}-failure.html"), await page.ContentAsync(), TestContext.Current.CancellationToken);
            throw;
        }
    }

    private async Task CreateThroughTheWizardAsync(IPage page, string name, int width)
    {
        await SignIn.AsAdministratorAsync(page, Server);
        await page.GotoAsync(new Uri(Server.BaseAddress, "/vms").ToString());
        await Assertions.Expect(page.GetByTestId("vm-list-empty")).ToBeVisibleAsync();
        // A click on the prerendered page races the circuit's start: the circuit then renders the page it started
        // on (/vms) over the one the click fetched. Wait for it, as a person's first click usually does.
        await Interactive.WaitForCircuitAsync(page);

        await page.GetByTestId("new-vm").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-step-0")).ToBeVisibleAsync();

        // General: a bad name is refused with the reason, a good one passes.
        var nameField = page.Locator("input[data-testid=field-name]");
        await nameField.FillAsync("-" + name);
        await Assertions.Expect(page.GetByText("A name starts with a letter or a digit.")).ToBeVisibleAsync();
        await page.GetByTestId("wizard-next").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-step-0")).ToBeVisibleAsync();
        await nameField.FillAsync(name);
        await page.Locator("textarea[data-testid=field-description], [data-testid=field-description] textarea").FillAsync("made by the browser test");
        await page.GetByTestId("wizard-next").ClickAsync();

        // Hardware.
        await Assertions.Expect(page.GetByTestId("wizard-step-1")).ToBeVisibleAsync();
        await page.Locator("input[data-testid=field-memory]").FillAsync("256");
        await page.GetByTestId("wizard-next").ClickAsync();

        // Boot: the library is empty, so the kernel is a host path.
        await Assertions.Expect(page.GetByTestId("wizard-step-2")).ToBeVisibleAsync();
        await page.Locator("input[data-testid=field-kernel-path]").FillAsync("/boot/vmlinuz");
        await page.GetByTestId("wizard-next").ClickAsync();

        // Disks & network: a disk given by host path; the VM has a NIC on the default NAT network already, and a second
        // one joins it too, with a generated MAC.
        await Assertions.Expect(page.GetByTestId("wizard-step-3")).ToBeVisibleAsync();
        await page.GetByTestId("add-disk").ClickAsync();
        await page.Locator("input[data-testid=field-disk-0-path]").FillAsync("/var/lib/platform/root.img");
        await Assertions.Expect(page.GetByTestId("nic-0")).ToBeVisibleAsync();
        await page.GetByTestId("add-nic").ClickAsync();
        await Assertions.Expect(page.GetByTestId("nic-1")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("input[data-testid=field-nic-1-tap]")).ToHaveCountAsync(0, new() { Timeout = 1000 });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor($"{name}-disks.png"), FullPage = true });
        (await page.EvaluateAsync<int>("document.documentElement.scrollWidth")).Should().BeLessThanOrEqualTo(width, "the wizard fits the screen");
        await page.GetByTestId("wizard-next").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-step-4")).ToBeVisibleAsync(); // cloud-init: none
        await page.GetByTestId("wizard-next").ClickAsync();

        await Assertions.Expect(page.GetByTestId("wizard-review")).ToContainTextAsync(name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor($"{name}-review.png"), FullPage = true });
        await page.GetByTestId("wizard-save").ClickAsync();

        // The detail page, then the list.
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync(name);
        await Assertions.Expect(page.GetByTestId("vm-summary")).ToContainTextAsync("default, default");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor($"{name}-detail.png"), FullPage = true });
        await page.GotoAsync(new Uri(Server.BaseAddress, "/vms").ToString());
        var row = page.GetByTestId("vm-list").Locator("tbody tr").Filter(new LocatorFilterOptions { HasText = name });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row).ToContainTextAsync("256 MiB");
        await Assertions.Expect(row).ToContainTextAsync("made by the browser test");
        await Assertions.Expect(row).ToContainTextAsync("stopped");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor($"{name}-list.png"), FullPage = true });

        // Nothing is wider than the phone's screen.
        int scrollWidth = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        scrollWidth.Should().BeLessThanOrEqualTo(width, "the list fits the screen without sideways scrolling");
    }
}
