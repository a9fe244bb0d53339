using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Tests.Kvm;

// The eventfd plumbing on a real /dev/kvm VM: what the machine's fast paths are built from.
public sealed class KvmVmEventTests
{
    [Fact]
    public void An_eventfd_counts_signals_until_consumed()
    {
        using var eventFd = EventFd.Create();
        eventFd.Consume().Should().Be(0, "a fresh eventfd is empty and non-blocking");
        eventFd.Signal().Should().BeTrue();
        eventFd.Signal().Should().BeTrue();
        eventFd.Consume().Should().Be(2);
        eventFd.Consume().Should().Be(0);
    }

    [Fact]
    public void An_ioeventfd_is_registered_once_per_address_and_removed_again()
    {
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var eventFd = EventFd.Create();
        using var other = EventFd.Create();

        vm.TrySetIoeventfd(eventFd, 0xE000_3000, 2, assign: true).Should().Be(0);
        vm.TrySetIoeventfd(other, 0xE000_3000, 2, assign: true).Should().Be(LibcNative.EEXIST, "two ioeventfds cannot share a range");
        vm.TrySetIoeventfd(eventFd, 0xE000_3000, 2, assign: false).Should().Be(0);
        vm.TrySetIoeventfd(eventFd, 0xE000_3000, 2, assign: false).Should().Be(LibcNative.ENOENT);
        vm.TrySetIoeventfd(other, 0xE000_3000, 2, assign: true).Should().Be(0, "the address is free again");
    }

    [Fact]
    public void An_irqfd_binds_to_a_GSI_of_the_in_kernel_irqchip()
    {
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        vm.CreateIrqchip();
        using var eventFd = EventFd.Create();

        var bind = () => vm.AssignIrqfd(eventFd, 30);
        bind.Should().NotThrow();
        bind.Should().Throw<KvmException>().WithMessage("*KVM_IRQFD (GSI 30)*", "one eventfd drives one GSI");
    }
}
