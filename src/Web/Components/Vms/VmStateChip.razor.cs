using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Components.Vms;

/// <summary>A VM's power state as a small coloured chip.</summary>
public partial class VmStateChip
{
    [Parameter]
    public VmPowerState State { get; set; }

    private Color Color => State switch
    {
        VmPowerState.Running => Color.Success,
        VmPowerState.Paused => Color.Warning,
        VmPowerState.Starting or VmPowerState.Stopping => Color.Info,
        VmPowerState.Restarting => Color.Warning,
        VmPowerState.Crashed => Color.Error,
        VmPowerState.HostUnreachable => Color.Dark,
        _ => Color.Default,
    };

    private string Icon => State switch
    {
        VmPowerState.Running => Icons.Material.Filled.PlayCircle,
        VmPowerState.Paused => Icons.Material.Filled.PauseCircle,
        VmPowerState.Starting or VmPowerState.Stopping => Icons.Material.Filled.HourglassTop,
        VmPowerState.Restarting => Icons.Material.Filled.RestartAlt,
        VmPowerState.Crashed => Icons.Material.Filled.Error,
        VmPowerState.HostUnreachable => Icons.Material.Filled.CloudOff,
        _ => Icons.Material.Filled.StopCircle,
    };

    private string Text => State == VmPowerState.HostUnreachable ? "host unreachable" : State.ToString().ToLowerInvariant();
}
