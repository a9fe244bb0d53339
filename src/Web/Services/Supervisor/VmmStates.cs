using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Supervisor;

/// <summary>The one place the VMM's run states and shutdown reasons (the control protocol's) become the dashboard's words.</summary>
internal static class VmmStates
{
    /// <summary>The power state a VMM's <c>query-status</c> answer means.</summary>
    public static VmPowerState PowerStateOf(VmRunState state) => state switch
    {
        VmRunState.Paused => VmPowerState.Paused,
        VmRunState.ShuttingDown or VmRunState.Stopped => VmPowerState.Stopping,
        // Starting is the moment before the first boot's vCPUs run: as good as running to a user.
        _ => VmPowerState.Running,
    };

    /// <summary>Why a VM stopped, from its SHUTDOWN event's reason.</summary>
    /// <param name="shutdownRequested">A user asked for a graceful shutdown, so a quit is its end rather than a Stop.</param>
    public static string DescribeShutdown(string reason, bool shutdownRequested) => reason switch
    {
        ControlProtocol.ShutdownReasons.GuestShutdown => "the guest powered off",
        ControlProtocol.ShutdownReasons.GuestReset => "the guest reset and the VM's on-reboot policy is exit",
        ControlProtocol.ShutdownReasons.HostQuit => shutdownRequested ? "the guest shut down" : "stopped from the dashboard",
        ControlProtocol.ShutdownReasons.BootFailed => "the guest could not boot again after its reset (see the VMM's log)",
        _ => reason,
    };
}
