using Microsoft.AspNetCore.Components;

namespace Platform.Web.Components;

/// <summary>
/// A component that re-renders when a service tells it something changed: it keeps the service's subscriptions
/// and disposes them with itself, and <see cref="Refresh"/> re-renders on the circuit's thread from any thread,
/// handing a failure to the renderer (eShop's OrdersRefreshOnStatusChange pattern).
/// </summary>
public abstract class LiveComponent : ComponentBase, IDisposable
{
    private readonly List<IDisposable> _subscriptions = [];
    private bool _disposed;

    /// <summary>Keeps <paramref name="subscription"/> until the component goes away.</summary>
    protected void Track(IDisposable subscription) => _subscriptions.Add(subscription);

    /// <summary>
    /// The most often a live component re-renders: a burst of changes (a thousand VMs' readings arriving within a
    /// second, each one a Refresh) costs one render at its start and one at the end of each interval, not one per change.
    /// </summary>
    internal static readonly TimeSpan MinRenderInterval = TimeSpan.FromMilliseconds(200);

    private long _lastRender;
    private bool _renderDue;

    /// <summary>
    /// Applies <paramref name="update"/> and re-renders on the renderer's thread; safe to call from a subscription's
    /// handler. The update is applied at once; the render follows at once unless one was done within
    /// <see cref="MinRenderInterval"/>, in which case one render at the interval's end shows every update since.
    /// </summary>
    protected void Refresh(Action? update = null)
    {
        if (_disposed)
        {
            return;
        }

        Dispatch(InvokeAsync(() =>
        {
            update?.Invoke();
            RenderSoon();
        }));
    }

    /// <summary>On the renderer's thread: renders now, or once when the interval since the last render is up.</summary>
    private void RenderSoon()
    {
        if (_renderDue)
        {
            return; // A render is already due; it will show this change too.
        }

        var since = System.Diagnostics.Stopwatch.GetElapsedTime(_lastRender);
        if (_lastRender == 0 || since >= MinRenderInterval)
        {
            _lastRender = System.Diagnostics.Stopwatch.GetTimestamp();
            StateHasChanged();
            return;
        }

        _renderDue = true;
        Dispatch(Task.Delay(MinRenderInterval - since).ContinueWith(
            _ => InvokeAsync(() =>
            {
                _renderDue = false;
                _lastRender = System.Diagnostics.Stopwatch.GetTimestamp();
                if (!_disposed)
                {
                    StateHasChanged();
                }
            }),
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap());
    }

    /// <summary>Hands a failure of <paramref name="work"/> to the renderer, as an exception in a render would be.</summary>
    private void Dispatch(Task work) =>
        _ = work.ContinueWith(
            t => DispatchExceptionAsync(t.Exception!.GetBaseException()),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            _disposed = true;
            foreach (var subscription in _subscriptions)
            {
                subscription.Dispose();
            }
        }
    }
}
