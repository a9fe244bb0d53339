using MudBlazor;
using MudBlazor.Services;

namespace Platform.Web.Tests.Fakes;

/// <summary>
/// MudBlazor's viewport service with the browser taken out: a screen of a fixed <see cref="Breakpoint"/>, whose
/// observers hear of it only when a test calls <see cref="NotifyImmediatelyAsync"/>, the "immediate" notification the
/// real service sends a few JS round trips after an observer subscribes. A test can so put a click before it.
/// </summary>
public sealed class ScriptedBrowserViewport(Breakpoint breakpoint) : IBrowserViewportService
{
    private readonly List<IBrowserViewportObserver> _observers = [];

    public ResizeOptions ResizeOptions { get; } = new();

    public Breakpoint Breakpoint { get; } = breakpoint;

    public IReadOnlyList<IBrowserViewportObserver> Observers => _observers;

    /// <summary>Tells every observer the screen's breakpoint, as the real service does right after subscribing.</summary>
    public async Task NotifyImmediatelyAsync()
    {
        foreach (var observer in _observers.ToList())
        {
            await observer.NotifyBrowserViewportChangeAsync(new BrowserViewportEventArgs(Guid.NewGuid(), Size, Breakpoint, isImmediate: true));
        }
    }

    private BrowserWindowSize Size => new() { Width = Breakpoint >= Breakpoint.Md ? 1280 : 390, Height = 844 };

    public Task SubscribeAsync(IBrowserViewportObserver observer, bool fireImmediately = true)
    {
        _observers.Add(observer);
        return Task.CompletedTask;
    }

    public Task SubscribeAsync(Guid observerId, Action<BrowserViewportEventArgs> lambda, ResizeOptions? options = null, bool fireImmediately = true) =>
        Task.CompletedTask;

    public Task SubscribeAsync(Guid observerId, Func<BrowserViewportEventArgs, Task> lambda, ResizeOptions? options = null, bool fireImmediately = true) =>
        Task.CompletedTask;

    public Task UnsubscribeAsync(IBrowserViewportObserver observer)
    {
        _observers.Remove(observer);
        return Task.CompletedTask;
    }

    public Task UnsubscribeAsync(Guid observerId) => Task.CompletedTask;

    public Task<bool> IsMediaQueryMatchAsync(string mediaQuery) => Task.FromResult(false);

    public Task<bool> IsBreakpointWithinWindowSizeAsync(Breakpoint breakpoint) => Task.FromResult(breakpoint == Breakpoint);

    public Task<bool> IsBreakpointWithinReferenceSizeAsync(Breakpoint breakpoint, Breakpoint reference) => Task.FromResult(breakpoint == reference);

    public Task<Breakpoint> GetCurrentBreakpointAsync() => Task.FromResult(Breakpoint);

    public Task<BrowserWindowSize> GetCurrentBrowserWindowSizeAsync() => Task.FromResult(Size);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
