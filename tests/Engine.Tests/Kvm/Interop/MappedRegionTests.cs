using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Tests.Kvm.Interop;

// The mmap owner: bounds-checked views, one munmap, and no use once disposed.
public sealed class MappedRegionTests
{
    // An odd length, so no other mapping this process makes meanwhile is likely to land in the hole a test leaves.
    private const nuint Length = 7 * 4096;

    [Fact]
    public void A_mapping_is_zeroed_memory_seen_through_bounds_checked_spans()
    {
        using var region = MappedRegion.MapAnonymous(Length, "test memory");

        region.Length.Should().Be(Length);
        region.AsSpan().Length.Should().Be((int)Length);
        region.AsSpan().IndexOfAnyExcept((byte)0).Should().Be(-1);
        region.AsSpan(4096, 3).Fill(0xAB);
        region.AsSpan()[4096..4099].ToArray().Should().Equal(0xAB, 0xAB, 0xAB);
        region.AsSpan(Length - 1, 1).Length.Should().Be(1);

        var pastTheEnd = () => region.AsSpan(Length - 1, 2).Length;
        pastTheEnd.Should().Throw<ArgumentOutOfRangeException>();
        var wrapping = () => region.AsSpan(ulong.MaxValue, 2).Length;
        wrapping.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Dispose_unmaps_and_refuses_further_use()
    {
        var region = MappedRegion.MapAnonymous(Length, "test memory");
        nint address = region.Address;
        TestNative.IsMapped(address, Length).Should().BeTrue();

        region.Dispose();

        TestNative.IsMapped(address, Length).Should().BeFalse();
        var span = () => region.AsSpan().Length;
        span.Should().Throw<ObjectDisposedException>();
        var where = () => region.Address;
        where.Should().Throw<ObjectDisposedException>();
        var pin = () => { unsafe { _ = region.Pin(0); } };
        pin.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void A_second_dispose_does_not_unmap_what_now_lies_there()
    {
        // Another thread may map the freed range before the test does: try again with a fresh region (a skip here
        // would fail ./platform test, which allows none but the PVM ones).
        MappedRegion region;
        nint address, successor;
        int attempts = 0;
        do
        {
            region = MappedRegion.MapAnonymous(Length, "test memory");
            address = region.Address;
            region.Dispose();
            successor = TestNative.MapAt(address, Length);
        }
        while (successor == 0 && ++attempts < 20);

        Assert.SkipWhen(successor == 0, "other threads mapped the freed range first, 20 times over");
        try
        {
            region.Dispose();
            region.Close();

            TestNative.IsMapped(address, Length).Should().BeTrue("the range is another mapping's now and was unmapped once already");
        }
        finally
        {
            TestNative.Munmap(successor, Length);
        }
    }

    [Fact]
    public unsafe void A_pin_keeps_the_mapping_across_a_dispose_until_it_is_released()
    {
        var region = MappedRegion.MapAnonymous(Length, "test memory");
        nint address = region.Address;
        byte* pinned = region.Pin(4096);

        region.Dispose();

        region.IsDisposed.Should().BeTrue();
        region.IsClosed.Should().BeFalse("the pin still holds it");
        var span = () => region.AsSpan().Length;
        span.Should().Throw<ObjectDisposedException>("a disposed mapping hands out nothing new");
        TestNative.IsMapped(address, Length).Should().BeTrue("the pin holds it");
        *pinned = 0x5A;
        (*pinned).Should().Be(0x5A);

        region.Unpin();

        TestNative.IsMapped(address, Length).Should().BeFalse("the last reference ended, so the dispose unmapped it");
    }

    [Fact]
    public void A_pin_past_the_end_is_refused()
    {
        using var region = MappedRegion.MapAnonymous(Length, "test memory");
        var pin = () => { unsafe { _ = region.Pin(Length + 1); } };
        pin.Should().Throw<ArgumentOutOfRangeException>();
    }
}
