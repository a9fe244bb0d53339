using System.Collections.Concurrent;
using System.Security.Claims;

namespace Platform.Web.Security;

/// <summary>
/// Keeps long-lived connections (console WebSockets, hub connections) honest: each one registers what it needs, and
/// whenever access may have changed (<see cref="IPermissionService.Invalidate"/>), and every
/// <see cref="SecurityOptions.AccessRecheckInterval"/> in any case, every registration is checked again (the grants, the
/// account, and that the browser session it came from was not signed out); one that no
/// longer holds has its <c>onRevoked</c> called once (the caller aborts its connection).
/// </summary>
public sealed partial class AccessWatcher : BackgroundService
{
    private readonly ConcurrentDictionary<long, Registered> _watches = new();
    private readonly IPermissionService _permissions;
    private readonly SecurityOptions _options;
    private readonly SignInSessions _sessions;
    private readonly ILogger<AccessWatcher> _logger;
    private readonly SemaphoreSlim _wake = new(0);
    private long _next;

    public AccessWatcher(IPermissionService permissions, SecurityOptions options, SignInSessions sessions, ILogger<AccessWatcher> logger)
    {
        _sessions = sessions;
        _permissions = permissions;
        _options = options;
        _logger = logger;
        permissions.Subscribe(() => _wake.Release());
    }

    /// <summary>Checks that <paramref name="user"/> is still active and has <paramref name="privileges"/> on the VM (on
    /// <c>/</c> for null; only the former for <see cref="Privileges.None"/>) until the returned handle is disposed.</summary>
    public IDisposable Watch(ClaimsPrincipal user, Privileges privileges, Guid? vmId, Action onRevoked)
    {
        long id = Interlocked.Increment(ref _next);
        _watches[id] = new Registered(user, privileges, vmId, onRevoked);
        return new Registration(this, id);
    }

    /// <summary>Checks every registration now; tests call it instead of waiting.</summary>
    public async Task CheckAllAsync(CancellationToken cancellationToken)
    {
        foreach (var (id, watch) in _watches)
        {
            var access = await _permissions.GetAccessAsync(watch.User, cancellationToken);
            bool holds = access.IsActive && access.Has(watch.Privileges, watch.VmId) && await _sessions.IsCurrentAsync(watch.User, cancellationToken);
            if (!holds && _watches.TryRemove(id, out _))
            {
                try
                {
                    watch.OnRevoked();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Log.RevokeFailed(_logger, ex);
                }
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(_options.AccessRecheckInterval, stoppingToken);
                while (_wake.CurrentCount > 0)
                {
                    await _wake.WaitAsync(stoppingToken);
                }

                await CheckAllAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.CheckFailed(_logger, ex);
            }
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    private sealed record Registered(ClaimsPrincipal User, Privileges Privileges, Guid? VmId, Action OnRevoked);

    private sealed class Registration(AccessWatcher owner, long id) : IDisposable
    {
        public void Dispose() => owner._watches.TryRemove(id, out _);
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Closing a connection whose access was revoked failed")]
        public static partial void RevokeFailed(ILogger logger, Exception exception);

        [LoggerMessage(LogLevel.Warning, "Checking open connections' access failed; trying again shortly")]
        public static partial void CheckFailed(ILogger logger, Exception exception);
    }
}
