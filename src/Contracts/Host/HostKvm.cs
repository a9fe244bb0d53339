namespace Platform.Contracts.Host;

/// <summary>Which KVM implementation backs /dev/kvm.</summary>
public enum KvmKind
{
    None,
    Unknown,
    HardwareIntel,
    HardwareAmd,
    /// <summary>The PVM module: guest CPL 0 is emulated, a stock Linux kernel cannot boot.</summary>
    Pvm,
}

/// <summary>What KVM this host runs, read from /sys/module without opening /dev/kvm: the dashboard asks it too.</summary>
public static class HostKvm
{
    public const string DevicePath = "/dev/kvm";

    public static KvmKind DetectKind()
    {
        if (Directory.Exists("/sys/module/kvm_pvm")) return KvmKind.Pvm;
        if (Directory.Exists("/sys/module/kvm_intel")) return KvmKind.HardwareIntel;
        if (Directory.Exists("/sys/module/kvm_amd")) return KvmKind.HardwareAmd;
        return File.Exists(DevicePath) ? KvmKind.Unknown : KvmKind.None;
    }
}
