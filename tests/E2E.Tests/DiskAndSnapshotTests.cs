using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;

namespace Platform.E2E.Tests;

/// <summary>
/// A VM made in the wizard with a new blank second disk, then on its detail page: the disk on the Hardware tab, and a
/// snapshot taken, reverted and deleted on the Snapshots tab.
/// </summary>
public sealed class DiskAndSnapshotTests : DashboardBrowserTest
{
    [Fact]
    public async Task A_blank_second_disk_from_the_wizard_is_snapshotted_reverted_and_the_snapshot_deleted()
    {
        var page = await Chromium.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        try
        {
            await RunAsync(page);
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("disks-failure.png"), FullPage = true });
            await File.WriteAllTextAsync(Artifacts.PathFor("disks-failure.html"), await page.ContentAsync(), TestContext.Current.CancellationToken);
            throw;
        }
    }

    private async Task RunAsync(IPage page)
    {
        await SignIn.AsAdministratorAsync(page, Server);
        await page.GotoAsync(new Uri(Server.BaseAddress, "/vms").ToString());
        await Interactive.WaitForCircuitAsync(page);
        await page.GetByTestId("new-vm").ClickAsync();

        await Assertions.Expect(page.GetByTestId("wizard-step-0")).ToBeVisibleAsync();
        await page.Locator("input[data-testid=field-name]").FillAsync("disks-e2e");
        await page.GetByTestId("wizard-next").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-step-1")).ToBeVisibleAsync();
        await page.GetByTestId("wizard-next").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-step-2")).ToBeVisibleAsync();
        await page.Locator("input[data-testid=field-kernel-path]").FillAsync("/boot/vmlinuz");
        await page.GetByTestId("wizard-next").ClickAsync();

        // Disks: a host file first, then a new blank 64 MiB qcow2 disk.
        await Assertions.Expect(page.GetByTestId("wizard-step-3")).ToBeVisibleAsync();
        await page.GetByTestId("add-disk").ClickAsync();
        await page.Locator("input[data-testid=field-disk-0-path]").FillAsync("/var/lib/platform/root.img");
        await page.GetByTestId("add-blank-disk").ClickAsync();
        var size = page.Locator("input[data-testid=field-disk-1-size]");
        await size.FillAsync("64");
        await size.PressAsync("Tab");
        await Assertions.Expect(page.GetByTestId("field-disk-1-blank")).ToContainTextAsync("64 MiB");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("disks-wizard.png"), FullPage = true });
        await page.GetByTestId("wizard-next").ClickAsync();

        // Cloud-init: a user with a password, for a cloud image.
        await Assertions.Expect(page.GetByTestId("wizard-step-4")).ToBeVisibleAsync();
        await page.Locator("input[data-testid=field-cloud-init]").CheckAsync();
        await page.Locator("input[data-testid=field-cloud-init-user]").FillAsync("alice");
        await page.Locator("input[data-testid=field-cloud-init-password]").FillAsync("e2e-password");
        await page.GetByTestId("wizard-next").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-review")).ToContainTextAsync("disks-e2e");
        await page.GetByTestId("wizard-save").ClickAsync();
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("disks-e2e");

        // Hardware: the blank disk is the VM's own, 64 MiB, qcow2.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Hardware" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("disk-source-1")).ToContainTextAsync("own disk");
        await Assertions.Expect(page.GetByTestId("disk-size-1")).ToHaveTextAsync("64 MiB");
        // The cloud-init seed is listed after them, read-only, to be written at the first start.
        await Assertions.Expect(page.GetByTestId("disk-source-seed")).ToContainTextAsync("cloud-init seed (cidata)");
        await Assertions.Expect(page.GetByTestId("disk-seed-note")).ToHaveTextAsync("Written at the VM's next start.");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("disks-hardware.png"), FullPage = true });

        // Cloud-init: the user, the password shown only as set.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Cloud-init" }).ClickAsync();
        await Assertions.Expect(page.Locator("input[data-testid=cloud-init-user]")).ToHaveValueAsync("alice");
        await Assertions.Expect(page.Locator("input[data-testid=cloud-init-enabled]")).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator("input[data-testid=cloud-init-password]")).ToHaveValueAsync("");
        await Assertions.Expect(page.GetByText("A password is set (stored hashed)")).ToBeVisibleAsync();

        // Snapshots: take one, revert to it, delete it.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Snapshots" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("snapshots-none")).ToBeVisibleAsync();
        await page.Locator("input[data-testid=snapshot-name]").FillAsync("first");
        await page.GetByTestId("snapshot-take").ClickAsync();
        await Assertions.Expect(page.GetByTestId("snapshot-first")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("vm-snapshots")).ToContainTextAsync("admin");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("disks-snapshots.png"), FullPage = true });

        await page.GetByTestId("snapshot-revert-first").ClickAsync();
        await page.GetByTestId("snapshot-confirm").ClickAsync();
        await Assertions.Expect(page.GetByText("Reverted to first.")).ToBeVisibleAsync();

        await page.GetByTestId("snapshot-delete-first").ClickAsync();
        await page.GetByTestId("snapshot-confirm").ClickAsync();
        await Assertions.Expect(page.GetByText("Deleted snapshot first.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("snapshots-none")).ToBeVisibleAsync();
    }
}
