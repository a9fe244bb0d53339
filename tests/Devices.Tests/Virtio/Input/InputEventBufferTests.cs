using Platform.Devices.Virtio.Input;

namespace Platform.Devices.Tests.Virtio.Input;

public sealed class InputEventBufferTests
{
    private static InputEvent Key(ushort code, int value) => new(LinuxInput.EventKey, code, value);

    private static InputEvent Abs(ushort axis, int value) => new(LinuxInput.EventAbsolute, axis, value);

    private static InputEvent[] KeyReport(ushort code, int value) => [Key(code, value), InputEvent.SyncReport];

    private static InputEvent[] MoveReport(int x, int y) => [Abs(LinuxInput.AbsoluteX, x), Abs(LinuxInput.AbsoluteY, y), InputEvent.SyncReport];

    private static List<InputEvent> Drain(InputEventBuffer buffer)
    {
        var events = new List<InputEvent>();
        while (buffer.Count > 0)
        {
            events.Add(buffer.Peek());
            buffer.RemoveFirst();
        }

        return events;
    }

    [Fact]
    public void Reports_come_out_in_the_order_they_went_in()
    {
        var buffer = new InputEventBuffer(16);
        buffer.TryAdd(KeyReport(30, 1)).Should().BeTrue();
        buffer.TryAdd(MoveReport(5, 6)).Should().BeTrue();
        buffer.Count.Should().Be(5);

        Drain(buffer).Should().Equal([.. KeyReport(30, 1), .. MoveReport(5, 6)]);
        buffer.DroppedEvents.Should().Be(0);
    }

    [Fact]
    public void A_report_must_end_with_SYN_REPORT()
    {
        var buffer = new InputEventBuffer(16);
        buffer.Invoking(b => b.TryAdd([Key(30, 1)])).Should().Throw<ArgumentException>();
        buffer.Invoking(b => b.TryAdd([])).Should().Throw<ArgumentException>();
        buffer.Count.Should().Be(0);
    }

    [Fact]
    public void When_full_the_oldest_motion_goes_first_and_keys_survive()
    {
        var buffer = new InputEventBuffer(8);
        buffer.TryAdd(MoveReport(1, 1)).Should().BeTrue();   // 3
        buffer.TryAdd(KeyReport(30, 1)).Should().BeTrue();   // 5
        buffer.TryAdd(MoveReport(2, 2)).Should().BeTrue();   // 8: full

        buffer.TryAdd(KeyReport(30, 0)).Should().BeTrue("the oldest move makes room");
        Drain(buffer).Should().Equal([.. KeyReport(30, 1), .. MoveReport(2, 2), .. KeyReport(30, 0)]);
        (buffer.DroppedEvents, buffer.DroppedReports).Should().Be((3, 1));
    }

    [Fact]
    public void Without_motion_to_drop_the_oldest_report_of_any_kind_goes()
    {
        var buffer = new InputEventBuffer(6);
        buffer.TryAdd(KeyReport(30, 1));
        buffer.TryAdd(KeyReport(30, 0));
        buffer.TryAdd(KeyReport(31, 1));

        buffer.TryAdd(KeyReport(31, 0)).Should().BeTrue();
        Drain(buffer).Should().Equal([.. KeyReport(30, 0), .. KeyReport(31, 1), .. KeyReport(31, 0)]);
        buffer.DroppedReports.Should().Be(1);
    }

    [Fact]
    public void A_report_part_way_delivered_is_never_dropped()
    {
        var buffer = new InputEventBuffer(6);
        buffer.TryAdd(MoveReport(1, 1));
        buffer.TryAdd(MoveReport(2, 2));
        buffer.RemoveFirst();   // ABS_X of the first move reached the guest; its ABS_Y and SYN must follow

        buffer.TryAdd(MoveReport(3, 3)).Should().BeTrue("the second move, not the first, makes room");
        Drain(buffer).Should().Equal([Abs(LinuxInput.AbsoluteY, 1), InputEvent.SyncReport, .. MoveReport(3, 3)]);
    }

    [Fact]
    public void A_report_that_cannot_fit_is_refused_and_counted()
    {
        var buffer = new InputEventBuffer(4);
        buffer.TryAdd(MoveReport(1, 1));
        buffer.RemoveFirst();

        buffer.TryAdd([Key(30, 1), Key(31, 1), Key(32, 1), Key(33, 1), InputEvent.SyncReport]).Should().BeFalse("5 events never fit in 4");
        buffer.TryAdd(MoveReport(2, 2)).Should().BeFalse("only the report being delivered is left, and it stays");
        (buffer.DroppedEvents, buffer.DroppedReports).Should().Be((8, 2));
        Drain(buffer).Should().Equal(Abs(LinuxInput.AbsoluteY, 1), InputEvent.SyncReport);
    }

    [Fact]
    public void Many_rounds_through_the_array_keep_every_event_in_order()
    {
        var buffer = new InputEventBuffer(7);
        var delivered = new List<InputEvent>();
        var expected = new List<InputEvent>();
        for (int i = 0; i < 200; i++)
        {
            var report = MoveReport(i, -i);
            buffer.TryAdd(report).Should().BeTrue();
            expected.AddRange(report);
            // Deliver a little less than was added at first, then catch up: the pending events slide around.
            int take = i % 3 == 2 ? buffer.Count : Math.Min(buffer.Count, 2);
            for (int j = 0; j < take; j++)
            {
                delivered.Add(buffer.Peek());
                buffer.RemoveFirst();
            }
        }

        delivered.AddRange(Drain(buffer));
        delivered.Should().Equal(expected);
        buffer.DroppedEvents.Should().Be(0);
    }

    [Fact]
    public void Clear_forgets_pending_events_but_not_the_counts()
    {
        var buffer = new InputEventBuffer(2);
        buffer.TryAdd(KeyReport(30, 1));
        buffer.TryAdd(KeyReport(30, 0));
        buffer.Clear();
        buffer.Count.Should().Be(0);
        buffer.DroppedEvents.Should().Be(2);
        buffer.TryAdd(KeyReport(31, 1)).Should().BeTrue();
        Drain(buffer).Should().Equal(KeyReport(31, 1));
    }
}
