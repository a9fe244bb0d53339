using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Platform.Web.Security;

namespace Platform.Web.Hubs;

/// <summary>
/// Live VM events for browser pages and scripts at <c>/hubs/vms</c>. A client calls <see cref="WatchAll"/> for
/// every VM's state changes and <see cref="Watch"/> for one VM's state and counters; <see cref="VmHubNotifier"/>
/// pushes <c>StateChanged</c> (a <c>VmStateChanged</c>), <c>Stats</c> (a <c>VmStatsSample</c>) and <c>Task</c> (a
/// <c>TaskEventResponse</c>: a task began, logged a line or ended; the host's tasks only to <see cref="WatchAll"/> with
/// Sys.Audit) to them.
/// Signed-in users only; each push reaches only connections whose user may see that VM (VM.Audit), and each
/// method's privilege is checked by <see cref="HubAuthorizationFilter"/>.
/// </summary>
[Authorize]
public sealed class VmHub(HubAudience audience) : Hub
{
    public const string Path = "/hubs/vms";
    public const string AllVmsGroup = "vms";

    public static string VmGroup(Guid vmId) => "vm:" + vmId.ToString("N");

    [HubPrivilege(Privileges.None)]
    public void WatchAll() => audience.WatchAll(Context.ConnectionId, on: true);

    [HubPrivilege(Privileges.None)]
    public void UnwatchAll() => audience.WatchAll(Context.ConnectionId, on: false);

    [HubPrivilege(Privileges.VmAudit)]
    public void Watch(Guid vmId) => audience.Watch(Context.ConnectionId, vmId, on: true);

    [HubPrivilege(Privileges.None)]
    public void Unwatch(Guid vmId) => audience.Watch(Context.ConnectionId, vmId, on: false);
}
