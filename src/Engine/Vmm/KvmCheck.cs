using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;
using Platform.Engine.Machine;

namespace Platform.Engine.Vmm;

/// <summary><c>platform-vmm --check</c>: which KVM this host has and whether it offers what we need.</summary>
internal static class KvmCheck
{
    private static readonly IReadOnlyList<KvmCapability> Needed = MachineInstance.RequiredCapabilities;

    private static readonly KvmCapability[] Useful = [KvmCapability.SetIdentityMapAddr];

    public static int Report(TextWriter output)
    {
        var kind = KvmSystem.DetectKind();
        output.WriteLine($"kvm: {Describe(kind)}");
        try
        {
            using var kvm = KvmSystem.Open();
            output.WriteLine("/dev/kvm: opened, API version 12");
            output.WriteLine($"vcpus: recommended {kvm.CheckExtension(KvmCapability.NrVcpus)}, maximum {kvm.CheckExtension(KvmCapability.MaxVcpus)}");
            bool ok = true;
            foreach (var cap in Needed)
            {
                bool present = kvm.CheckExtension(cap) > 0;
                ok &= present;
                output.WriteLine($"  KVM_CAP_{cap}: {(present ? "yes" : "MISSING (required)")}");
            }

            foreach (var cap in Useful)
            {
                output.WriteLine($"  KVM_CAP_{cap}: {(kvm.CheckExtension(cap) > 0 ? "yes" : "no")}");
            }

            if (kind == KvmKind.Pvm)
            {
                output.WriteLine("note: PVM emulates guest kernel code; stock Linux kernels cannot boot here, test guests can.");
            }

            return ok ? 0 : 1;
        }
        catch (KvmException ex)
        {
            output.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    private static string Describe(KvmKind kind) => kind switch
    {
        KvmKind.HardwareIntel => "hardware (kvm_intel)",
        KvmKind.HardwareAmd => "hardware (kvm_amd)",
        KvmKind.Pvm => "pvm (kvm_pvm)",
        KvmKind.Unknown => "present, kind unknown",
        _ => "none",
    };
}
