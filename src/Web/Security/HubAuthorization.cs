using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>
/// What a hub method needs: <see cref="Privileges"/> on the VM given in its <c>Guid vmId</c> argument (on <c>/</c>
/// when it has none; <see cref="Privileges.None"/>: any signed-in user). A hub method without this attribute is
/// refused. <see cref="Audit"/> writes successful calls to the audit log too (refusals always are).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class HubPrivilegeAttribute(Privileges privileges) : Attribute
{
    public Privileges Privileges { get; } = privileges;

    public bool Audit { get; init; }
}

/// <summary>
/// Checks every hub method call against its <see cref="HubPrivilegeAttribute"/> (a VM the caller may not see is
/// "no such VM", as in the API) and audits refusals; closes a connection whose user is disabled, within
/// <see cref="SecurityOptions.AccessRecheckInterval"/>. Registered for all hubs; it acts on the dashboard's own
/// (those in this assembly) and passes Blazor's circuit hub through.
/// </summary>
internal sealed class HubAuthorizationFilter(IPermissionService permissions, IAuditLog audit, AccessWatcher watcher, HubAudience audience) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocation, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (!IsOurs(invocation.Hub))
        {
            return await next(invocation); // Blazor's own circuit hub authorizes through its components
        }

        var attribute = invocation.HubMethod.GetCustomAttribute<HubPrivilegeAttribute>();
        var user = invocation.Context.User ?? new ClaimsPrincipal();
        string action = AuditActions.HubCall + invocation.HubMethodName;
        var actor = AuditActor.From(user, invocation.Context.GetHttpContext()?.Connection.RemoteIpAddress?.ToString());
        Guid? vmId = VmArgument(invocation);
        if (attribute is null)
        {
            await audit.AddAsync(actor, action, AuditResult.Denied, vmId, detail: "the hub method declares no privilege");
            throw new HubException("This method declares no privilege, so nobody may call it.");
        }

        var access = await permissions.GetAccessAsync(user);
        if (!access.IsActive)
        {
            await audit.AddAsync(actor, action, AuditResult.Denied, vmId, detail: "not signed in, disabled, or a password to change first");
            throw new HubException("Sign in first.");
        }

        if (vmId is { } vm && (attribute.Privileges & Privileges.VmScoped) != 0 && !access.CanSee(vm))
        {
            await audit.AddAsync(actor, action, AuditResult.Denied, vm, detail: "VM not visible");
            throw new HubException("There is no VM with that id.");
        }

        if (!access.Has(attribute.Privileges, vmId))
        {
            await audit.AddAsync(actor, action, AuditResult.Denied, vmId, detail: $"needs {PrivilegeNames.Format(attribute.Privileges)}");
            throw new HubException($"You need {PrivilegeNames.Format(attribute.Privileges)}.");
        }

        var result = await next(invocation);
        if (attribute.Audit)
        {
            await audit.AddAsync(actor, action, AuditResult.Succeeded, vmId);
        }

        return result;
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        if (!IsOurs(context.Hub))
        {
            await next(context);
            return;
        }

        var caller = context.Context;
        var user = caller.User ?? new ClaimsPrincipal();
        audience.Add(caller.ConnectionId, user, watcher.Watch(user, Privileges.None, null, caller.Abort));
        await next(context);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        audience.Remove(context.Context.ConnectionId);
        await next(context, exception);
    }

    /// <summary>The dashboard's hubs (every hub in this assembly); framework hubs are left alone.</summary>
    private static bool IsOurs(Hub hub) => hub.GetType().Assembly == typeof(HubAuthorizationFilter).Assembly;

    private static Guid? VmArgument(HubInvocationContext invocation)
    {
        var parameters = invocation.HubMethod.GetParameters();
        for (int i = 0; i < parameters.Length && i < invocation.HubMethodArguments.Count; i++)
        {
            if (parameters[i].Name == "vmId" && invocation.HubMethodArguments[i] is Guid id)
            {
                return id;
            }
        }

        return null;
    }
}

/// <summary>
/// Who listens on the hub and for which VMs, so every push goes only to connections whose user may see that VM
/// now (VM.Audit): a revoked grant stops the events at the next one, without the client having to ask.
/// </summary>
public sealed class HubAudience(IPermissionService permissions, Services.Runtime.IVmRuntimeInfo runtimeInfo)
{
    private readonly ConcurrentDictionary<string, Listener> _listeners = new(StringComparer.Ordinal);

    internal void Add(string connectionId, ClaimsPrincipal user, IDisposable watch) => _listeners[connectionId] = new Listener(user, watch);

    internal void Remove(string connectionId)
    {
        if (_listeners.TryRemove(connectionId, out var listener))
        {
            listener.Watch.Dispose();
            foreach (var vmId in listener.Vms.Keys)
            {
                listener.StopWatching(vmId);
            }
        }
    }

    /// <summary>The connection wants every VM's state changes (only those it may see reach it).</summary>
    public void WatchAll(string connectionId, bool on)
    {
        if (_listeners.TryGetValue(connectionId, out var listener))
        {
            listener.All = on;
        }
    }

    /// <summary>
    /// The connection wants this VM's state changes and counters: while it does, the VM's counters are read live
    /// (<see cref="Services.Runtime.IVmRuntimeInfo.WatchStats"/>), not only once per history interval.
    /// </summary>
    public void Watch(string connectionId, Guid vmId, bool on)
    {
        if (_listeners.TryGetValue(connectionId, out var listener))
        {
            if (on)
            {
                _ = listener.Vms.GetOrAdd(vmId, id => new Lazy<IDisposable>(() => runtimeInfo.WatchStats(id))).Value;
            }
            else
            {
                listener.StopWatching(vmId);
            }
        }
    }

    /// <summary>The connections to send a VM's event to: those watching it (or all VMs, with <paramref name="includeAll"/>)
    /// whose user may see it now. Null is the host (a task about no VM): those watching all VMs whose user has Sys.Audit.</summary>
    public async Task<IReadOnlyList<string>> RecipientsAsync(Guid? vmId, bool includeAll)
    {
        var recipients = new List<string>();
        foreach (var (connectionId, listener) in _listeners)
        {
            if ((includeAll && listener.All) || (vmId is { } id && listener.Vms.ContainsKey(id)))
            {
                var access = await permissions.GetAccessAsync(listener.User);
                if (vmId is { } vm ? access.CanSee(vm) : access.Has(Privileges.SysAudit))
                {
                    recipients.Add(connectionId);
                }
            }
        }

        return recipients;
    }

    private sealed class Listener(ClaimsPrincipal user, IDisposable watch)
    {
        public ClaimsPrincipal User { get; } = user;

        public IDisposable Watch { get; } = watch;

        public bool All { get; set; }

        /// <summary>The VMs watched, each with its live-counters watch (made once however often Watch is called).</summary>
        public ConcurrentDictionary<Guid, Lazy<IDisposable>> Vms { get; } = new();

        public void StopWatching(Guid vmId)
        {
            if (Vms.TryRemove(vmId, out var watch))
            {
                watch.Value.Dispose();
            }
        }
    }
}
