using System.Buffers;
using Platform.Devices.Abstractions;
using Platform.Engine.Memory;
using Platform.Engine.Tests.Kvm.Interop;

namespace Platform.Engine.Tests.Memory;

// Guest RAM as devices see it: copies and in-place views, each checked against the regions.
public sealed class GuestMemoryTests : IDisposable
{
    private const ulong Low = 0, LowSize = 1280ul << 20;   // 1.25 GiB: windows at 0, 512 MiB and 1 GiB
    private const ulong High = 4ul << 30, HighSize = 64ul << 20;

    private readonly GuestMemory _memory = GuestMemory.Allocate([(Low, LowSize), (High, HighSize)]);

    public void Dispose() => _memory.Dispose();

    [Theory]
    [InlineData(0ul, 4096)]
    [InlineData((512ul << 20) - 4096, 8192)]                 // across the first window's stride
    [InlineData((1024ul << 20) - 512, 1024)]                  // across the second
    [InlineData(LowSize - IGuestMemory.MinViewLength, IGuestMemory.MinViewLength)] // the longest view, ending at the region's end
    [InlineData(High + 100, 5000)]
    public void A_view_is_the_guest_memory_itself(ulong address, int length)
    {
        _memory.TryGetMemory(address, length, out var view).Should().BeTrue();
        view.Length.Should().Be(length);

        _memory.TryWrite(address, [1, 2, 3]).Should().BeTrue();
        view.Span[..3].ToArray().Should().Equal(1, 2, 3);
        view.Span[^1] = 0xEE;
        byte[] last = new byte[1];
        _memory.TryRead(address + (ulong)length - 1, last).Should().BeTrue();
        last[0].Should().Be(0xEE);
    }

    [Fact]
    public unsafe void A_view_keeps_the_guest_address_offset_within_its_page()
    {
        foreach (ulong address in new[] { 0x1000ul, 0x1200ul, (512ul << 20) + 0x10, High + 0x201 })
        {
            _memory.TryGetMemory(address, 4096, out var view).Should().BeTrue();
            using MemoryHandle pin = view.Pin();
            ((ulong)pin.Pointer % 4096).Should().Be(address % 4096);
        }
    }

    [Theory]
    [InlineData(LowSize - 4096, 8192)]                 // runs out of the low region
    [InlineData(LowSize, 1)]                           // starts in the hole
    [InlineData(High - 1, 2)]                          // starts in the hole, ends in RAM
    [InlineData(High + HighSize - 1, 2)]               // past the top
    [InlineData(ulong.MaxValue - 10, 100)]             // wraps
    [InlineData(0ul, IGuestMemory.MinViewLength + 1)]  // longer than one view
    [InlineData(0ul, -1)]
    public void A_range_that_is_not_one_stretch_of_RAM_gets_no_view(ulong address, int length)
    {
        _memory.TryGetMemory(address, length, out var view).Should().BeFalse();
        view.IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void Disposed_memory_gives_no_views_and_views_taken_before_refuse_their_span()
    {
        var memory = GuestMemory.Allocate([(0ul, 1ul << 20)]);
        memory.TryGetMemory(0x1000, 512, out var view).Should().BeTrue();
        memory.Dispose();

        memory.TryGetMemory(0x1000, 512, out _).Should().BeFalse();
        var touch = () => view.Span[0];
        touch.Should().Throw<ObjectDisposedException>();
        var pin = () => view.Pin();
        pin.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public unsafe void A_pinned_view_keeps_its_memory_mapped_after_dispose_until_unpinned()
    {
        var memory = GuestMemory.Allocate([(0ul, 1ul << 20)]);
        nint host = memory.Regions[0].HostAddress;
        memory.TryGetMemory(0x1000, 512, out var view).Should().BeTrue();
        var pin = view.Pin(); // what preadv/pwritev hold while I/O is in flight

        memory.Dispose();

        TestNative.IsMapped(host, 1u << 20).Should().BeTrue("I/O in flight must not land in unmapped memory");
        *(byte*)pin.Pointer = 0x77;
        pin.Dispose();
        TestNative.IsMapped(host, 1u << 20).Should().BeFalse("the last pin ended, so the dispose unmapped it");
    }
}
