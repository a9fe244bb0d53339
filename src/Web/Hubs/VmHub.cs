using Microsoft.AspNetCore.SignalR;

namespace Platform.Web.Hubs;

/// <summary>
/// Live VM events for browser pages and scripts at <c>/hubs/vms</c>. A client calls <see cref="WatchAll"/> for
/// every VM's state changes and <see cref="Watch"/> for one VM's state and counters; <see cref="VmHubNotifier"/>
/// pushes <c>StateChanged</c> (a <c>VmStateChanged</c>) and <c>Stats</c> (a <c>VmStatsSample</c>) to those groups.
/// </summary>
public sealed class VmHub : Hub
{
    public const string Path = "/hubs/vms";
    public const string AllVmsGroup = "vms";

    public static string VmGroup(Guid vmId) => "vm:" + vmId.ToString("N");

    public Task WatchAll() => Groups.AddToGroupAsync(Context.ConnectionId, AllVmsGroup);

    public Task UnwatchAll() => Groups.RemoveFromGroupAsync(Context.ConnectionId, AllVmsGroup);

    public Task Watch(Guid vmId) => Groups.AddToGroupAsync(Context.ConnectionId, VmGroup(vmId));

    public Task Unwatch(Guid vmId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, VmGroup(vmId));
}
