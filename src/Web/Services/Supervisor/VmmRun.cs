using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Supervisor;

/// <summary>What one VMM said and was asked before it ended: enough to tell a crash from a stop.</summary>
internal sealed class VmmRun
{
    /// <summary>What a jailed VMM dies of when its seccomp filter catches a call (SECCOMP_RET_KILL_PROCESS).</summary>
    private const int SigSys = 31;

    /// <summary>The reason of the SHUTDOWN event, once the VMM announced its end.</summary>
    public string? ShutdownReason { get; set; }

    /// <summary>The detail of a GUEST_PANICKED event.</summary>
    public string? PanicDetail { get; set; }

    /// <summary>A graceful shutdown was asked for: a guest that answers Ctrl-Alt-Del by rebooting is then ended.</summary>
    public bool ShutdownRequested { get; set; }

    /// <summary>A user asked for Stop or Shutdown: however the VMM ends now, the on-crash policy never restarts it.</summary>
    public bool StopRequested { get; set; }

    /// <summary>
    /// Why a shutdown ended as a stop instead (the guest did not answer in time, or a user pressed Stop during the
    /// wait); null while it is, or was, graceful. The end's reason and the Shut down action's outcome both tell it.
    /// </summary>
    public string? ShutdownCutShort { get; set; }

    /// <summary>How the VMM ended, from its last events and (when it was our child) its exit code.</summary>
    public (VmPowerState State, string Reason) Outcome(int? exitCode, string runtimeDirectory)
    {
        if (PanicDetail is { } panic)
        {
            return (VmPowerState.Crashed, $"the guest died ({panic})");
        }

        if (ShutdownReason == ControlProtocol.ShutdownReasons.HostQuit && ShutdownCutShort is { } cutShort)
        {
            return (VmPowerState.Stopped, cutShort);
        }

        if (ShutdownReason is { } reason)
        {
            return (VmPowerState.Stopped, VmmStates.DescribeShutdown(reason, ShutdownRequested));
        }

        if (StopRequested)
        {
            // Asked to stop, it did not quit in time and was killed: stopped as asked, not a crash.
            return (VmPowerState.Stopped, "stopped from the dashboard (the VMM did not quit in time and was killed)");
        }

        return exitCode switch
        {
            128 + SigSys => (VmPowerState.Crashed, $"the VMM was killed by SIGSYS (signal {SigSys}): its jail's seccomp filter caught a call it does not allow: {VmmProcess.LogTail(runtimeDirectory, 1)}"),
            > 128 => (VmPowerState.Crashed, $"the VMM was killed by signal {exitCode - 128}"),
            { } code => (VmPowerState.Crashed, $"the VMM exited with code {code} without shutting down: {VmmProcess.LogTail(runtimeDirectory)}"),
            null => (VmPowerState.Crashed, "the VMM ended without shutting down the VM"),
        };
    }
}
