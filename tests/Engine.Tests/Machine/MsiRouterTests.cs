using Platform.Devices.Pci;
using Platform.Engine.Kvm;
using Platform.Engine.Machine;

namespace Platform.Engine.Tests.Machine;

// MSI routes on a real VM: the table follows the guest's unmasked messages and nothing else.
public sealed class MsiRouterTests : IDisposable
{
    private static readonly MsiMessage ToCpu0Vector0x41 = new(0xFEE0_0000, 0x41);

    // Local APIC register offsets (Intel SDM vol. 3, table 11-1), as KVM_GET_LAPIC lays them out.
    private const int ApicSpuriousVector = 0xF0;
    private const int ApicIrr = 0x200;

    private readonly KvmSystem _kvm = KvmSystem.Open();
    private readonly KvmVm _vm;
    private readonly MsiRouter _router;

    public MsiRouterTests()
    {
        _vm = _kvm.CreateVm();
        _vm.CreateIrqchip();
        _router = new MsiRouter(_vm);
        _router.Install();
    }

    [Fact]
    public void Unmasking_a_vector_routes_it_once_per_message()
    {
        var target = _router.CreateVectors(2);

        target.VectorChanged(0, ToCpu0Vector0x41, masked: false);
        _router.RouteUpdates.Should().Be(1);
        target.VectorChanged(0, ToCpu0Vector0x41, masked: false);
        _router.RouteUpdates.Should().Be(1, "the route is already right");
        target.VectorChanged(0, ToCpu0Vector0x41, masked: true);
        target.VectorChanged(0, ToCpu0Vector0x41, masked: false);
        _router.RouteUpdates.Should().Be(1, "masking keeps the route, so Linux's mask/unmask costs no routing call");
        target.VectorChanged(0, ToCpu0Vector0x41 with { Data = 0x42 }, masked: false);
        _router.RouteUpdates.Should().Be(2);
        _router.RouteFailures.Should().Be(0);
    }

    [Fact]
    public async Task A_routed_vector_is_signalled_through_its_irqfd()
    {
        // KVM consumes the irqfd's counter as it injects, so the proof is where the interrupt lands: vCPU 0's local
        // APIC, enabled in software (SVR bit 8) so it accepts fixed interrupts, holds vector 0x41 in its IRR.
        using var vcpu = _vm.CreateVcpu(0);
        var lapic = vcpu.GetLapic();
        Span<byte> regs = lapic;
        BitConverter.TryWriteBytes(regs[ApicSpuriousVector..], 0x1FFu).Should().BeTrue();
        vcpu.SetLapic(lapic);
        var target = _router.CreateVectors(1);
        target.VectorChanged(0, ToCpu0Vector0x41, masked: false);
        IsPending(vcpu, 0x41).Should().BeFalse();

        target.Signal(0, ToCpu0Vector0x41);

        // KVM may hand the injection to a kernel worker: give it up to 5 s.
        for (int i = 0; i < 500 && !IsPending(vcpu, 0x41); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        IsPending(vcpu, 0x41).Should().BeTrue("the irqfd's write reached KVM, which routed it to vCPU 0's vector 0x41");
        _router.DirectSignals.Should().Be(0, "the routed vector goes through its irqfd, not KVM_SIGNAL_MSI");
        _router.Dropped.Should().Be(0);
    }

    [Fact]
    public void A_message_that_is_not_an_x86_MSI_is_never_routed_and_its_signals_are_dropped()
    {
        var target = _router.CreateVectors(1);
        var bogus = new MsiMessage(0x1000, 0x41);

        target.VectorChanged(0, bogus, masked: false);
        target.Signal(0, bogus);

        _router.RouteUpdates.Should().Be(0);
        _router.Dropped.Should().Be(1);
    }

    [Fact]
    public void Each_function_gets_its_own_GSIs_and_the_machine_has_a_limit()
    {
        _router.CreateVectors(3);
        _router.CreateVectors(5);
        var tooMany = () => _router.CreateVectors(MsiRouter.MaxVectors);
        tooMany.Should().Throw<InvalidOperationException>();
    }

    /// <summary>Whether <paramref name="vector"/> waits in the vCPU's IRR: eight 32-bit registers, 16 bytes apart.</summary>
    private static bool IsPending(KvmVcpu vcpu, int vector)
    {
        var lapic = vcpu.GetLapic();
        ReadOnlySpan<byte> regs = lapic;
        uint irr = BitConverter.ToUInt32(regs[(ApicIrr + (vector / 32 * 0x10))..]);
        return (irr & (1u << (vector % 32))) != 0;
    }

    public void Dispose()
    {
        _router.Dispose();
        _vm.Dispose();
        _kvm.Dispose();
    }
}
