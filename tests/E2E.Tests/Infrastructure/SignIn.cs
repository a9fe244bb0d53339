using Microsoft.Playwright;

namespace Platform.E2E.Tests.Infrastructure;

/// <summary>Signs a browser page in through the real sign-in form.</summary>
public static class SignIn
{
    public static async Task AsAsync(IPage page, Uri baseAddress, string userName, string password)
    {
        await page.GotoAsync(new Uri(baseAddress, "/account/login").ToString());
        await page.Locator("#username").FillAsync(userName);
        await page.Locator("#password").FillAsync(password);
        await page.GetByTestId("login-submit").ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal));
    }

    public static Task AsAdministratorAsync(IPage page, DashboardServer server) =>
        AsAsync(page, server.BaseAddress, DashboardServer.AdminName, DashboardServer.AdminPassword);
}
