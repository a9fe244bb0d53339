using Platform.Engine.Kvm;

namespace Platform.Engine.Tests.Kvm;

public sealed class KvmVcpuTests
{
    [Fact]
    public unsafe void A_kick_sets_immediate_exit_until_the_vcpu_is_disposed()
    {
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        var vcpu = vm.CreateVcpu(0);

        vcpu.Run->ImmediateExit.Should().Be(0);
        vcpu.RequestImmediateExit().Should().BeTrue();
        vcpu.Run->ImmediateExit.Should().Be(1, "the kick writes the shared kvm_run page");
        vcpu.RunBytes.Length.Should().Be(kvm.VcpuMmapSize);

        vcpu.Dispose();

        vcpu.RequestImmediateExit().Should().BeFalse("the page is unmapped; a late kick must not write it");
        var run = () => vcpu.RunBytes.Length;
        run.Should().Throw<ObjectDisposedException>();
    }
}
