namespace Platform.Contracts.Control;

/// <summary>How the platform-vmm process ends; documented in docs/control-protocol.md.</summary>
public enum VmmExitCode
{
    /// <summary>The guest powered off, or quit was asked for.</summary>
    PowerOff = 0,
    /// <summary>The VMM could not start: bad arguments, a bad kernel image, no KVM.</summary>
    StartFailure = 1,
    /// <summary>The guest reset and --on-reboot exit was given.</summary>
    GuestReset = 2,
    /// <summary>The guest died (KVM emulation failure, failed entry, crash event).</summary>
    GuestFatal = 3,
    /// <summary>Usage error on the command line.</summary>
    Usage = 64,
}
