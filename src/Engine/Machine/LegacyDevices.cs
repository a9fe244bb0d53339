using Platform.Engine.Kvm;

namespace Platform.Engine.Machine;

/// <summary>The i8042 and CMOS RTC, attached once their models land.</summary>
internal static class LegacyDevices
{
    public static void Attach(MachineInstance machine, KvmVm vm)
    {
        _ = machine;
        _ = vm;
    }
}
