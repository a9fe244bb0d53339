using Platform.Devices.Abstractions;
using Platform.Engine.Kvm;

namespace Platform.Engine.Machine;

/// <summary>A GSI of the in-kernel irqchip as a device's interrupt wire (KVM_IRQ_LINE).</summary>
internal sealed class KvmIrqLine(KvmVm vm, uint gsi) : IInterruptLine
{
    public uint Gsi { get; } = gsi;

    public void SetLevel(bool asserted) => vm.SetIrqLine(Gsi, asserted);
}
