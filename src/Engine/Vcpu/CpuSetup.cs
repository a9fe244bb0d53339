using System.Text;
using Platform.Engine.Boot;
using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;
using Platform.Engine.Machine;

namespace Platform.Engine.Vcpu;

/// <summary>
/// Puts a vCPU in the state the boot protocol expects: CPUID (the host's supported set with our topology and a
/// hypervisor leaf naming us), a few MSRs, the FPU, the LAPIC's LINT pins, and for the BSP the entry registers.
/// </summary>
internal static class CpuSetup
{
    /// <summary>Where our hypervisor leaf sits: after KVM's own at 0x40000000, so Linux still finds kvmclock.</summary>
    public const uint PlatformCpuidLeaf = 0x4000_0100;
    public const string PlatformSignature = "PlatformVMM\0";

    private const uint MsrIa32MiscEnable = 0x1A0;
    private const ulong MiscEnableFastString = 1;
    private const int ApicLvt0 = 0x350, ApicLvt1 = 0x360;
    private const uint DeliveryModeExtInt = 7, DeliveryModeNmi = 4;

    public static KvmCpuidEntry2[] BuildCpuid(KvmCpuidEntry2[] supported, int vcpuId, int vcpuCount)
    {
        var entries = new List<KvmCpuidEntry2>(supported.Length + 1);
        foreach (var source in supported)
        {
            var e = source;
            switch (e.Function)
            {
                case 1:
                    // EBX[31:24] initial APIC id, [23:16] logical processors per package, [15:8] CLFLUSH line / 8.
                    e.Ebx = (uint)vcpuId << 24 | (uint)Math.Min(vcpuCount, 255) << 16 | 8u << 8 | (e.Ebx & 0xFF);
                    if (vcpuCount > 1)
                    {
                        e.Edx |= 1u << 28; // HTT: the processor count field is valid
                    }

                    break;
                case 0xB:
                case 0x1F:
                    e.Edx = (uint)vcpuId; // x2APIC id of this logical processor
                    break;
                case 6:
                    e.Ecx &= ~(1u << 3); // no energy-performance bias MSR: we do not emulate it
                    break;
            }

            entries.Add(e);
        }

        byte[] name = Encoding.ASCII.GetBytes(PlatformSignature);
        entries.Add(new KvmCpuidEntry2
        {
            Function = PlatformCpuidLeaf,
            Eax = PlatformCpuidLeaf,
            Ebx = BitConverter.ToUInt32(name, 0),
            Ecx = BitConverter.ToUInt32(name, 4),
            Edx = BitConverter.ToUInt32(name, 8),
        });
        return [.. entries];
    }

    public static void Configure(KvmVcpu vcpu, KvmCpuidEntry2[] cpuid, BootPlan? plan)
    {
        vcpu.SetCpuid(cpuid);
        vcpu.SetMsrs([new KvmMsrEntry { Index = MsrIa32MiscEnable, Data = MiscEnableFastString }]);
        vcpu.SetFpu(new KvmFpu { Fcw = 0x37F, Mxcsr = 0x1F80 });
        ConfigureLapic(vcpu);
        if (plan is not null)
        {
            SetEntryRegisters(vcpu, plan, cpuid);
        }
    }

    /// <summary>LINT0 as ExtINT (the 8259 virtual wire) and LINT1 as NMI, as PC firmware leaves them.</summary>
    private static void ConfigureLapic(KvmVcpu vcpu)
    {
        var lapic = vcpu.GetLapic();
        Span<byte> regs = lapic;
        SetDeliveryMode(regs, ApicLvt0, DeliveryModeExtInt);
        SetDeliveryMode(regs, ApicLvt1, DeliveryModeNmi);
        vcpu.SetLapic(lapic);
    }

    private static void SetDeliveryMode(Span<byte> regs, int offset, uint mode)
    {
        uint value = BitConverter.ToUInt32(regs[offset..]);
        value = (value & ~0x700u & ~(1u << 16)) | mode << 8; // delivery mode bits 8–10, unmasked
        BitConverter.TryWriteBytes(regs[offset..], value);
    }

    private static void SetEntryRegisters(KvmVcpu vcpu, BootPlan plan, KvmCpuidEntry2[] cpuid)
    {
        if (plan.Mode == EntryMode.ResetVector)
        {
            SetResetRegisters(vcpu, cpuid);
            return;
        }

        var sregs = vcpu.GetSregs();
        var data = Segment(BootGdt.DataSelector, BootGdt.Entries[BootGdt.DataSelector / 8]);
        sregs.Ds = sregs.Es = sregs.Fs = sregs.Gs = sregs.Ss = data;
        sregs.Tr = Segment(BootGdt.TssSelector, BootGdt.Entries[BootGdt.TssSelector / 8]);
        sregs.Gdt = new KvmDtable { Base = MemoryLayout.BootGdt, Limit = (ushort)(BootGdt.Entries.Length * 8 - 1) };
        sregs.Idt = new KvmDtable { Base = MemoryLayout.BootIdt, Limit = 7 };

        const ulong Cr0ProtectionEnable = 1, Cr0ExtensionType = 0x10, Cr0Paging = 0x8000_0000;
        const ulong Cr4Pae = 0x20;
        const ulong EferLme = 0x100, EferLma = 0x400;

        var regs = new KvmRegs { Rflags = 2, Rip = plan.EntryPoint };
        if (plan.Mode == EntryMode.Pvh32)
        {
            sregs.Cs = Segment(BootGdt.Code32Selector, BootGdt.Entries[BootGdt.Code32Selector / 8]);
            sregs.Cr0 = Cr0ProtectionEnable | Cr0ExtensionType;
            sregs.Cr3 = 0;
            sregs.Cr4 = 0;
            sregs.Efer = 0;
            regs.Rbx = plan.BootInfoAddress;
        }
        else
        {
            sregs.Cs = Segment(BootGdt.Code64Selector, BootGdt.Entries[BootGdt.Code64Selector / 8]);
            sregs.Cr0 = Cr0ProtectionEnable | Cr0ExtensionType | Cr0Paging;
            sregs.Cr3 = MemoryLayout.Pml4;
            sregs.Cr4 = Cr4Pae;
            sregs.Efer = EferLme | EferLma;
            regs.Rsi = plan.BootInfoAddress;
            regs.Rsp = regs.Rbp = MemoryLayout.BootStack;
        }

        vcpu.SetSregs(sregs);
        vcpu.SetRegs(regs);
    }

    /// <summary>
    /// The registers of a processor after RESET, as the SDM's table "IA-32 Processor States Following Power-up" gives
    /// them (and KVM sets for a new vCPU; written out so a firmware boot never depends on what a previous owner left):
    /// real mode, CS 0xF000 with base 0xFFFF0000 so CS:IP is 0xFFFFFFF0, data segments at 0 with 64 KiB limits, EDX the
    /// processor signature (CPUID 1's EAX), paging and caches as the BIOS expects to find them.
    /// </summary>
    private static void SetResetRegisters(KvmVcpu vcpu, KvmCpuidEntry2[] cpuid)
    {
        const ushort ResetCodeSelector = 0xF000;
        const ulong Cr0ExtensionType = 0x10, Cr0CacheDisable = 0x4000_0000, Cr0NotWriteThrough = 0x2000_0000;
        const byte CodeReadAccessed = 0xB, DataWriteAccessed = 0x3, Ldt = 0x2, Tss16Busy = 0x3;

        var sregs = vcpu.GetSregs();
        sregs.Cs = RealModeSegment(ResetCodeSelector, (uint)(BootPlan.ResetVectorAddress & ~0xFFFFUL), CodeReadAccessed);
        sregs.Ds = sregs.Es = sregs.Fs = sregs.Gs = sregs.Ss = RealModeSegment(0, 0, DataWriteAccessed);
        sregs.Ldt = RealModeSegment(0, 0, Ldt) with { S = 0 };
        sregs.Tr = RealModeSegment(0, 0, Tss16Busy) with { S = 0 };
        sregs.Gdt = new KvmDtable { Base = 0, Limit = 0xFFFF };
        sregs.Idt = new KvmDtable { Base = 0, Limit = 0xFFFF };
        sregs.Cr0 = Cr0ExtensionType | Cr0CacheDisable | Cr0NotWriteThrough;
        sregs.Cr2 = sregs.Cr3 = sregs.Cr4 = 0;
        sregs.Efer = 0;
        vcpu.SetSregs(sregs);

        uint signature = cpuid.FirstOrDefault(e => e.Function == 1).Eax;
        vcpu.SetRegs(new KvmRegs { Rflags = 2, Rip = BootPlan.ResetVectorAddress & 0xFFFF, Rdx = signature == 0 ? 0x600u : signature });
    }

    private static KvmSegment RealModeSegment(ushort selector, uint baseAddress, byte type) => new()
    {
        Base = baseAddress,
        Limit = 0xFFFF,
        Selector = selector,
        Type = type,
        S = 1,
        Present = 1,
    };

    /// <summary>Unpacks a GDT descriptor into KVM's segment form.</summary>
    internal static KvmSegment Segment(ushort selector, ulong descriptor)
    {
        uint limit = (uint)((descriptor & 0xFFFF) | ((descriptor >> 32) & 0xF_0000));
        bool granular = ((descriptor >> 55) & 1) != 0;
        return new KvmSegment
        {
            Base = ((descriptor >> 16) & 0xFF_FFFF) | ((descriptor >> 32) & 0xFF00_0000),
            Limit = granular ? (limit << 12) | 0xFFF : limit,
            Selector = selector,
            Type = (byte)((descriptor >> 40) & 0xF),
            S = (byte)((descriptor >> 44) & 1),
            Dpl = (byte)((descriptor >> 45) & 3),
            Present = (byte)((descriptor >> 47) & 1),
            Avl = (byte)((descriptor >> 52) & 1),
            L = (byte)((descriptor >> 53) & 1),
            Db = (byte)((descriptor >> 54) & 1),
            G = (byte)(granular ? 1 : 0),
        };
    }
}
