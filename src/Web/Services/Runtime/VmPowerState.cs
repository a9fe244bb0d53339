namespace Platform.Web.Services.Runtime;

/// <summary>What a VM is doing right now, as the supervisor sees it. Stored definitions never carry this.</summary>
public enum VmPowerState
{
    /// <summary>No VMM process runs for this VM.</summary>
    Stopped,
    /// <summary>A VMM was launched and its control socket has not answered yet.</summary>
    Starting,
    Running,
    Paused,
    /// <summary>A graceful stop (Ctrl-Alt-Del) was asked for and the VMM has not exited yet.</summary>
    Stopping,
    /// <summary>The VMM ended without being asked to (killed, guest fatal error) and policy did not restart it.</summary>
    Crashed,
    /// <summary>
    /// The VMM crashed and the VM's on-crash policy starts it again after a pause (Starting follows). Stop or Shutdown
    /// cancels that; Start starts it at once.
    /// </summary>
    Restarting,
    /// <summary>
    /// In a cluster: the VM's host is not an active member (stopped, dead, cut off), so no one here knows what its VMM
    /// does; it may well still run. Never shown as Stopped, and no action is offered until the host is back.
    /// </summary>
    HostUnreachable,
}
