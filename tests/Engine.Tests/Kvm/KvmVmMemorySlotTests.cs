using Platform.Engine.Display;
using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Tests.Kvm;

// Memory slots the guest moves (a framebuffer BAR) on a real /dev/kvm VM: registering with dirty logging, reading the
// log, refusing overlaps, deleting and adding again elsewhere — all reported as errno values, never thrown.
public sealed class KvmVmMemorySlotTests
{
    private const uint Slot = 8;
    private const int Size = 1 << 20; // 256 pages: a 4-word bitmap

    [Fact]
    public void A_logged_slot_is_registered_read_moved_and_deleted()
    {
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var memory = VideoMemory.Allocate(Size);
        var bitmap = new ulong[4];

        vm.TrySetUserMemoryRegion(Slot, 0xE000_0000, Size, memory.HostAddress, KvmVm.MemLogDirtyPages).Should().Be(0);
        bitmap.AsSpan().Fill(ulong.MaxValue);
        vm.TryGetDirtyLog(Slot, Size, bitmap).Should().Be(0);
        bitmap.Should().OnlyContain(w => w == 0, "no guest code ran, and host writes are not logged");
        vm.TryGetDirtyLog(Slot, Size, bitmap.AsSpan(0, 3)).Should().Be(LibcNative.EINVAL, "KVM would write 256 bits");

        vm.TrySetUserMemoryRegion(Slot + 1, 0xE008_0000, Size, memory.HostAddress, 0).Should().Be(LibcNative.EEXIST, "slots never overlap");

        vm.TryRemoveUserMemoryRegion(Slot).Should().Be(0);
        vm.TryGetDirtyLog(Slot, Size, bitmap).Should().Be(LibcNative.ENOENT, "a deleted slot has no log");
        vm.TrySetUserMemoryRegion(Slot, 0xF000_0000, Size, memory.HostAddress, KvmVm.MemLogDirtyPages).Should().Be(0, "the same memory goes elsewhere");
        vm.TryGetDirtyLog(Slot, Size, bitmap).Should().Be(0);
    }

    [Fact]
    public void A_slot_without_dirty_logging_has_no_log()
    {
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var memory = VideoMemory.Allocate(Size);

        vm.TrySetUserMemoryRegion(Slot, 0xE000_0000, Size, memory.HostAddress, 0).Should().Be(0);
        vm.TryGetDirtyLog(Slot, Size, new ulong[4]).Should().Be(LibcNative.ENOENT);
        var read = () => vm.GetDirtyLog(Slot, Size, new ulong[4]);
        read.Should().Throw<KvmException>().WithMessage("KVM_GET_DIRTY_LOG (slot 8)*");
    }
}
