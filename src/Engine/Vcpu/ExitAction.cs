namespace Platform.Engine.Vcpu;

/// <summary>What the vCPU loop does after an exit was handled.</summary>
public enum ExitAction
{
    /// <summary>Run the guest again.</summary>
    Continue,
    /// <summary>KVM_RUN was interrupted (a kick or any signal): check for pause/stop, then run again.</summary>
    Interrupted,
    /// <summary>The guest asked for a reset, or triple-faulted.</summary>
    Reset,
    /// <summary>The guest powered off (a system event or an ACPI-less power-off path).</summary>
    PowerOff,
    /// <summary>KVM could not run the guest (emulation failure, failed entry): the guest is dead.</summary>
    Fatal,
}
