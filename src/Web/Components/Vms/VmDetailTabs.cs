using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Components.Console;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Components.Vms;

/// <summary>
/// One tab of the VM detail page (<c>/vms/{id}/{Key}</c>). <see cref="Component"/> derives from
/// <see cref="VmTabBase"/>, which hands it the VM and its live power state.
/// </summary>
/// <summary><see cref="Privileges"/> on the VM decides whether the tab shows (a console tab needs VM.Console).</summary>
public sealed record VmDetailTab(string Key, string Title, string Icon, Type Component, Privileges Privileges = Privileges.VmAudit);

/// <summary>The VM detail page's tabs, in the order they show. The one place to add a tab.</summary>
public static class VmDetailTabs
{
    public static readonly IReadOnlyList<VmDetailTab> All =
    [
        new("summary", "Summary", Icons.Material.Filled.Dashboard, typeof(VmSummaryTab)),
        new("console", "Console", Icons.Material.Filled.Monitor, typeof(VmConsoleTab), Privileges.VmConsole),
        // Not "serial": /vms/{id}/serial is the serial WebSocket bridge, and a page must not share its URL.
        new("serial-console", "Serial", Icons.Material.Filled.Terminal, typeof(VmSerialTab), Privileges.VmConsole),
        new("hardware", "Hardware", Icons.Material.Filled.Memory, typeof(VmHardwareTab)),
        new("snapshots", "Snapshots", Icons.Material.Filled.CameraAlt, typeof(VmSnapshotsTab)),
        new("cloud-init", "Cloud-init", Icons.Material.Filled.Cloud, typeof(VmCloudInitTab)),
        new("clone", "Clone", Icons.Material.Filled.ContentCopy, typeof(VmCloneTab)),
        new("events", "Events", Icons.Material.Filled.History, typeof(VmEventsTab)),
    ];

    /// <summary>The tab for a URL segment; the first tab for none or an unknown one.</summary>
    public static VmDetailTab Find(string? key) =>
        All.FirstOrDefault(t => t.Key.Equals(key, StringComparison.OrdinalIgnoreCase)) ?? All[0];
}

/// <summary>The parameters every VM detail tab gets; the page re-renders tabs when the state changes.</summary>
public abstract class VmTabBase : ComponentBase
{
    [Parameter, EditorRequired]
    public VirtualMachine Vm { get; set; } = null!;

    [Parameter]
    public VmPowerState State { get; set; }
}
