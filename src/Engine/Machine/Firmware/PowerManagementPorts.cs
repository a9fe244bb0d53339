using Platform.Devices.Pci;
using Platform.Engine.Control;

namespace Platform.Engine.Machine.Firmware;

/// <summary>
/// Puts the PIIX4 power-management function's registers on the port bus: GPE0 and the APM ports at their fixed ports,
/// and the PM I/O block wherever the firmware points PMBASE, moved as the guest reprograms it. A PMBASE that collides
/// with another device's ports leaves the block unmapped (counted), as a guest's nonsense never ends the VMM.
/// </summary>
internal sealed class PowerManagementPorts
{
    private readonly IoBus _ports;
    private readonly Lock _lock = new();
    private Piix4PowerManagement? _function;
    private ushort? _mapped;
    private long _mapFailures;

    public PowerManagementPorts(IoBus ports) => _ports = ports;

    /// <summary>PMBASE values that could not be mapped (they overlapped other devices' ports).</summary>
    public long MapFailures => Interlocked.Read(ref _mapFailures);

    /// <summary>Registers the fixed ranges of <paramref name="function"/>; the block follows <see cref="MoveBlock"/>.</summary>
    public void Attach(Piix4PowerManagement function)
    {
        _function = function;
        _ports.Register(Piix4PowerManagement.Gpe0Port, Piix4PowerManagement.Gpe0Length, function.Gpe0Block);
        _ports.Register(Piix4PowerManagement.ApmControlPort, Piix4PowerManagement.ApmPortCount, function.ApmPorts);
    }

    /// <summary>The function's <c>pmBlockMoved</c>: unmaps the block from its old base and maps it at <paramref name="pmBase"/>.</summary>
    public void MoveBlock(ushort? pmBase)
    {
        lock (_lock)
        {
            var block = _function?.PmBlock;
            if (block is null)
            {
                return;
            }

            if (_mapped is { } old)
            {
                _ports.Unregister(old, block);
                _mapped = null;
            }

            if (pmBase is not { } start)
            {
                return;
            }

            try
            {
                _ports.Register(start, Piix4PowerManagement.PmBlockLength, block);
                _mapped = start;
            }
            catch (InvalidOperationException)
            {
                Interlocked.Increment(ref _mapFailures);
            }
        }
    }

    public DeviceStats Stats() => new("acpi", "piix4-pm", new Dictionary<string, long>
    {
        ["pm_base"] = _mapped ?? -1,
        ["acpi_enabled"] = _function?.AcpiEnabled == true ? 1 : 0,
        ["power_button_presses"] = _function?.PowerButtonPresses ?? 0,
        ["unsupported_sleeps"] = _function?.UnsupportedSleeps ?? 0,
        ["pm_base_conflicts"] = MapFailures,
        ["bad_accesses"] = _function?.BadAccesses ?? 0,
    });
}
