using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Tests.Kvm.Interop;

public sealed class EpollTests
{
    [Fact]
    public void Wait_reports_the_token_of_a_signalled_eventfd()
    {
        using var epoll = Epoll.Create();
        using var quiet = EventFd.Create();
        using var signalled = EventFd.Create();
        epoll.Add(quiet.Handle, 7);
        epoll.Add(signalled.Handle, 9);
        Span<LibcNative.EpollEvent> events = stackalloc LibcNative.EpollEvent[4];

        epoll.Wait(events, 0).Should().Be(0, "nothing is ready yet");
        signalled.Signal();

        epoll.Wait(events, 5000).Should().Be(1);
        events[0].Data.Should().Be(9);
        (events[0].Events & LibcNative.EpollIn).Should().Be(LibcNative.EpollIn);
    }

    [Fact]
    public void Level_triggered_reports_until_consumed_and_edge_triggered_once_per_signal()
    {
        using var epoll = Epoll.Create();
        using var level = EventFd.Create();
        using var edge = EventFd.Create();
        epoll.Add(level.Handle, 1);
        epoll.Add(edge.Handle, 2, edgeTriggered: true);
        Span<LibcNative.EpollEvent> events = stackalloc LibcNative.EpollEvent[4];
        level.Signal();
        edge.Signal();

        epoll.Wait(events, 5000).Should().Be(2);
        epoll.Wait(events, 0).Should().Be(1, "the level-triggered eventfd still holds a count");
        events[0].Data.Should().Be(1);

        level.Consume();
        epoll.Wait(events, 0).Should().Be(0);
        edge.Signal();
        epoll.Wait(events, 5000).Should().Be(1, "a new signal is a new edge");
        events[0].Data.Should().Be(2);
    }

    [Fact]
    public void A_removed_descriptor_is_no_longer_reported()
    {
        using var epoll = Epoll.Create();
        using var eventFd = EventFd.Create();
        epoll.Add(eventFd.Handle, 3);
        epoll.Remove(eventFd.Handle);
        eventFd.Signal();

        epoll.Wait(stackalloc LibcNative.EpollEvent[1], 0).Should().Be(0);
        var again = () => epoll.Remove(eventFd.Handle);
        again.Should().Throw<KvmException>("it is not in the set any more");
    }

    [Fact]
    public void A_disposed_set_refuses_to_wait_and_a_disposed_descriptor_cannot_be_added()
    {
        var epoll = Epoll.Create();
        var eventFd = EventFd.Create();
        eventFd.Dispose();

        var add = () => epoll.Add(eventFd.Handle, 1);
        add.Should().Throw<ObjectDisposedException>();

        epoll.Dispose();
        var wait = () => epoll.Wait(new LibcNative.EpollEvent[1], 0);
        wait.Should().Throw<ObjectDisposedException>();
    }
}
