using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;
using Platform.Engine.Machine;

namespace Platform.Engine.Tests.Machine;

public sealed class IoEventLoopTests
{
    [Fact]
    public async Task A_signalled_eventfd_runs_its_handler_on_the_loop_thread_and_is_cleared()
    {
        using var loop = new IoEventLoop();
        using var first = EventFd.Create();
        using var second = EventFd.Create();
        var firstSeen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.WatchEventFd(first, () => firstSeen.TrySetResult(Thread.CurrentThread.Name));
        loop.WatchEventFd(second, () => secondSeen.TrySetResult());
        loop.Start();

        first.Signal();
        (await firstSeen.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().Be("io-events");
        secondSeen.Task.IsCompleted.Should().BeFalse("only the signalled source's handler runs");
        second.Signal();
        await secondSeen.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        loop.Stop();
        first.Consume().Should().Be(0, "the loop read the counter before calling the handler");
        loop.HandlerFailures.Should().Be(0);
    }

    [Fact]
    public async Task A_throwing_handler_is_counted_and_the_loop_goes_on()
    {
        using var loop = new IoEventLoop();
        using var bad = EventFd.Create();
        using var good = EventFd.Create();
        var goodSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.WatchEventFd(bad, () => throw new InvalidOperationException("device bug"));
        loop.WatchEventFd(good, () => goodSeen.TrySetResult());
        loop.Start();

        bad.Signal();
        good.Signal();
        await goodSeen.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        loop.Stop();

        loop.HandlerFailures.Should().Be(1);
    }

    [Fact]
    public void Sources_cannot_be_added_once_the_loop_runs()
    {
        using var loop = new IoEventLoop();
        using var eventFd = EventFd.Create();
        loop.Start();

        var late = () => loop.WatchEventFd(eventFd, () => { });
        late.Should().Throw<InvalidOperationException>();
    }
}
