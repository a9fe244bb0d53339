using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Tests.Kvm.Interop;

public sealed class EventFdTests
{
    [Fact]
    public void A_signal_is_read_back_once()
    {
        using var eventFd = EventFd.Create();

        eventFd.Signal().Should().BeTrue();
        eventFd.Consume().Should().Be(1);
        eventFd.Consume().Should().Be(0);
    }

    [Fact]
    public void A_disposed_eventfd_neither_signals_nor_reads()
    {
        var eventFd = EventFd.Create();
        eventFd.Dispose();

        eventFd.Handle.IsDisposed.Should().BeTrue();
        eventFd.Handle.IsClosed.Should().BeTrue("nothing held it, so it is closed at once");
        eventFd.Signal().Should().BeFalse("the number may already name another descriptor");
        eventFd.Consume().Should().Be(0);
    }
}
