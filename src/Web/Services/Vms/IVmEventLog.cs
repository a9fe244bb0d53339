using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.Web.Services.Vms;

/// <summary>One page of the event log, newest first, with the total for a pager.</summary>
public sealed record VmEventPage(IReadOnlyList<VmEvent> Items, int Total);

/// <summary>
/// The VM event/task log: pages, the API and the supervisor add lines; the Events tab, the event log page and
/// <c>GET /api/v1/events</c> read them. Thread-safe; every call uses its own database context.
/// </summary>
public interface IVmEventLog
{
    /// <summary>Stores <paramref name="entry"/> (its <see cref="VmEvent.Id"/> is assigned) and tells subscribers.</summary>
    Task AddAsync(VmEvent entry, CancellationToken cancellationToken);

    /// <summary>Newest first; <paramref name="vmId"/> null lists every VM's events.</summary>
    Task<VmEventPage> ListAsync(Guid? vmId, int skip, int take, CancellationToken cancellationToken) =>
        ListAsync(vmId, VmVisibility.Everything, skip, take, cancellationToken);

    /// <summary>Newest first, only the events <paramref name="visibility"/> lets the reader see.</summary>
    Task<VmEventPage> ListAsync(Guid? vmId, VmVisibility visibility, int skip, int take, CancellationToken cancellationToken);

    /// <summary>Calls <paramref name="handler"/> after each added entry until the subscription is disposed.</summary>
    IDisposable Subscribe(Action<VmEvent> handler);
}

/// <summary>The kinds of event the control plane writes; the supervisor may add its own (free text, ≤ 64 chars).</summary>
public static class VmEventKinds
{
    public const string Created = "Created";
    public const string Updated = "Updated";
    public const string Deleted = "Deleted";
    public const string Start = "Start";
    public const string Shutdown = "Shutdown";
    public const string Stop = "Stop";
    public const string Pause = "Pause";
    public const string Resume = "Resume";
    public const string Reset = "Reset";
    public const string DiskResize = "DiskResize";
    /// <summary>A disc put in or taken out of the CD-ROM drive.</summary>
    public const string Cdrom = "Cdrom";
    /// <summary>A NIC's cable pulled out or plugged in on a running VM.</summary>
    public const string NicLink = "NicLink";
    public const string Snapshot = "Snapshot";
    public const string CloudInit = "CloudInit";
    public const string Clone = "Clone";
    public const string Template = "Template";
    /// <summary>For the supervisor: a state it saw (guest powered off, VMM crashed…).</summary>
    public const string StateChanged = "StateChanged";
    /// <summary>For the supervisor: the on-crash policy restarting a VM, or giving up on it.</summary>
    public const string CrashRestart = "CrashRestart";
}
