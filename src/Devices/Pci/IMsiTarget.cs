namespace Platform.Devices.Pci;

/// <summary>An MSI message: the memory write a device does to interrupt a CPU (x86: address 0xFEExxxxx, data = vector + mode).</summary>
public readonly record struct MsiMessage(ulong Address, uint Data);

/// <summary>
/// Where a function's MSI-X vectors go. The engine implements it with one GSI per vector: a
/// <c>KVM_SET_GSI_ROUTING</c> MSI route kept equal to the vector's message, and an irqfd (eventfd) bound to that
/// GSI, so <see cref="Signal"/> is one eventfd write. Tests implement it with a recorder.
/// </summary>
/// <remarks>
/// Both methods are called with the function's MSI-X lock held, which keeps them ordered with each other and with
/// the guest's mask writes: a vector is never signalled after the guest saw its mask take effect. So they must
/// not block, and must not call back into the device.
/// </remarks>
public interface IMsiTarget
{
    /// <summary>
    /// Vector <paramref name="vector"/>'s message or effective mask changed (effective mask = vector masked, function
    /// masked, or MSI-X disabled). Called on a vCPU thread. A masked vector is never signalled, so the engine may drop
    /// or keep its route; an unmasked one may be signalled right after this returns.
    /// </summary>
    void VectorChanged(int vector, MsiMessage message, bool masked);

    /// <summary>Delivers vector <paramref name="vector"/> now. Called from device worker threads; must be cheap and non-blocking.</summary>
    void Signal(int vector, MsiMessage message);
}
