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

    /// <summary>Re-renders on the renderer's thread; safe to call from a subscription's handler.</summary>
    protected void Refresh(Action? update = null)
    {
        if (_disposed)
        {
            return;
        }

        _ = InvokeAsync(() =>
        {
            update?.Invoke();
            StateHasChanged();
        }).ContinueWith(
            t => DispatchExceptionAsync(t.Exception!.GetBaseException()),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

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
