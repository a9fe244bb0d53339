using Microsoft.Playwright;

namespace Platform.E2E.Tests.Infrastructure;

/// <summary>
/// A browser test's set-up: a dashboard of its own (<see cref="Server"/>) and Debian's Chromium
/// (<see cref="Chromium"/>), started before each test and closed after it.
/// </summary>
public abstract class DashboardBrowserTest : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    protected DashboardServer Server { get; } = new();

    protected IBrowser Chromium => _browser ?? throw new InvalidOperationException("The browser starts in InitializeAsync.");

    public async ValueTask InitializeAsync() => (_playwright, _browser) = await Browser.LaunchAsync();

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await Server.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
