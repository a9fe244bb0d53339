using Platform.Devices.Legacy;
using Platform.Engine.Kvm;

namespace Platform.Engine.Machine;

/// <summary>The PC's i8042 (keyboard and the reset line) and CMOS RTC, at their usual ports and IRQs.</summary>
internal static class LegacyDevices
{
    private const uint KeyboardGsi = 1, RtcGsi = 8, MouseGsi = 12;

    public static (I8042Controller Keyboard, CmosRtc Rtc) Attach(MachineInstance machine, KvmVm vm)
    {
        var i8042 = new I8042Controller(new KvmIrqLine(vm, KeyboardGsi), new KvmIrqLine(vm, MouseGsi),
            () => machine.RequestReset("i8042 reset pulse"));
        machine.Ports.Register(0x60, I8042Controller.PortCount, i8042);

        ulong below4G = Math.Min(machine.Config.MemoryBytes, MemoryLayout.PciHoleStart);
        var rtc = new CmosRtc(TimeProvider.System, new KvmIrqLine(vm, RtcGsi), below4G, machine.Config.MemoryBytes - below4G,
            machine.Config.CpuCount);
        machine.Ports.Register(0x70, CmosRtc.PortCount, rtc);
        return (i8042, rtc);
    }
}
