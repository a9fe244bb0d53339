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
        try
        {
            // Generous: password hashing and the first page render are slow on a loaded two-core machine.
            await page.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal), new() { Timeout = 60_000 });
        }
        catch (TimeoutException ex)
        {
            // Say what the page said (a lockout, a rate limit, a wrong password) rather than only "timeout".
            string said = await page.Locator("body").InnerTextAsync(new() { Timeout = 5_000 });
            throw new InvalidOperationException($"Signing in as {userName} stayed on the sign-in page, which says: {said}", ex);
        }
    }

    public static Task AsAdministratorAsync(IPage page, DashboardServer server) =>
        AsAsync(page, server.BaseAddress, DashboardServer.AdminName, DashboardServer.AdminPassword);
}
