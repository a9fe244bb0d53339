namespace Platform.Devices.Abstractions;

/// <summary>
/// One interrupt input of the machine's interrupt controller, as a device sees it: a wire it drives high or low.
/// The engine maps it to <c>KVM_IRQ_LINE</c> (or an MSI); tests use a recording fake.
/// </summary>
public interface IInterruptLine
{
    /// <summary>Drives the line: <c>true</c> asserts it, <c>false</c> releases it. Repeating a level is harmless.</summary>
    void SetLevel(bool asserted);
}
