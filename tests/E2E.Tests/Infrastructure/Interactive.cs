using Microsoft.Playwright;

namespace Platform.E2E.Tests.Infrastructure;

/// <summary>Pages are prerendered: clicks do nothing until the Blazor circuit is up. This waits for it.</summary>
public static class Interactive
{
    /// <summary>MainLayout renders <c>#blazor-interactive</c> only when the circuit renders the page.</summary>
    public static Task WaitForCircuitAsync(IPage page) =>
        page.Locator("#blazor-interactive").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached, Timeout = 30_000 });
}
