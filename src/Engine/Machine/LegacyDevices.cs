using Platform.Devices.Abstractions;
using Platform.Devices.Legacy;
using Platform.Engine.Kvm;

namespace Platform.Engine.Machine;

/// <summary>The PC's i8042 (keyboard and the reset line), CMOS RTC and, when configured, HPET, at their usual places and IRQs.</summary>
internal static class LegacyDevices
{
    private const uint KeyboardGsi = 1, RtcGsi = 8, MouseGsi = 12;

    public static (I8042Controller Keyboard, CmosRtc Rtc, Hpet? Hpet) Attach(MachineInstance machine, KvmVm vm)
    {
        var i8042 = new I8042Controller(new KvmIrqLine(vm, KeyboardGsi), new KvmIrqLine(vm, MouseGsi),
            () => machine.RequestReset("i8042 reset pulse"));
        machine.Ports.Register(0x60, I8042Controller.PortCount, i8042);

        ulong below4G = Math.Min(machine.Config.MemoryBytes, MemoryLayout.PciHoleStart);
        var rtcLine = new GatedInterruptLine(new KvmIrqLine(vm, RtcGsi));
        var rtc = new CmosRtc(TimeProvider.System, rtcLine, below4G, machine.Config.MemoryBytes - below4G,
            machine.Config.CpuCount);
        machine.Ports.Register(0x70, CmosRtc.PortCount, rtc);

        Hpet? hpet = null;
        if (machine.Config.HasHpet)
        {
            // In legacy replacement mode the HPET's timers 0 and 1 take IRQ 0 and IRQ 8: the PIT and the RTC fall
            // silent, as on QEMU (the PIT through KVM's HPET-legacy flag, the RTC's line through its gate).
            hpet = new Hpet(TimeProvider.System, gsi => new KvmIrqLine(vm, (uint)gsi))
            {
                LegacyReplacementChanged = legacy =>
                {
                    vm.SetPitHpetLegacy(legacy);
                    rtcLine.Open = !legacy;
                },
            };
            machine.Mmio.Register(Hpet.BaseAddress, Hpet.Size, hpet);
        }

        return (i8042, rtc, hpet);
    }

    /// <summary>An interrupt line that can be cut off: while closed the device's level is kept but not passed on.</summary>
    private sealed class GatedInterruptLine(IInterruptLine inner) : IInterruptLine
    {
        private readonly Lock _lock = new();
        private bool _level;
        private bool _open = true;

        public bool Open
        {
            set
            {
                lock (_lock)
                {
                    if (_open != value)
                    {
                        _open = value;
                        if (_level)
                        {
                            inner.SetLevel(value); // a level held while closed appears when it opens, and goes when it closes
                        }
                    }
                }
            }
        }

        public void SetLevel(bool asserted)
        {
            lock (_lock)
            {
                _level = asserted;
                if (_open)
                {
                    inner.SetLevel(asserted);
                }
            }
        }
    }
}
