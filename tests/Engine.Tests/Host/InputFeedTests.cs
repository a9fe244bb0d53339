using Platform.Engine.Host;

namespace Platform.Engine.Tests.Host;

// The pacing between host input and a device that holds little: per-client queues, turns, back-pressure, the bound.
public sealed class InputFeedTests
{
    /// <summary>A device with room for a few items, which calls back when the "guest" takes some, as the i8042 does.</summary>
    private sealed class SmallDevice
    {
        private readonly Lock _lock = new();
        private readonly List<int> _taken = [];
        private int _room;
        private bool _roomWanted;

        public SmallDevice(int room) => _room = room;

        public Action? RoomAvailable { get; set; }

        public int Refusals { get; private set; }

        public List<int> Taken
        {
            get
            {
                lock (_lock)
                {
                    return [.. _taken];
                }
            }
        }

        public bool TryTake(int item)
        {
            lock (_lock)
            {
                if (_room == 0)
                {
                    _roomWanted = true;
                    Refusals++;
                    return false;
                }

                _room--;
                _taken.Add(item);
                return true;
            }
        }

        /// <summary>The guest read <paramref name="count"/> items.</summary>
        public void Drain(int count)
        {
            bool call;
            lock (_lock)
            {
                _room += count;
                call = _roomWanted;
                _roomWanted = false;
            }

            if (call)
            {
                RoomAvailable?.Invoke();
            }
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(1, timeout.Token);
        }
    }

    [Fact]
    public async Task Items_a_full_device_refuses_wait_and_all_arrive_in_order_as_the_guest_reads()
    {
        var device = new SmallDevice(room: 4);
        var feed = new InputFeed<int>(device.TryTake);
        device.RoomAvailable = feed.RoomAvailable;
        var client = feed.Open(limit: 10_000);

        for (int i = 0; i < 2_000; i++)
        {
            client.Add(i).Should().BeTrue();
        }

        device.Taken.Should().Equal(0, 1, 2, 3);
        feed.Pending.Should().Be(1_996);
        while (device.Taken.Count < 2_000)
        {
            int before = device.Taken.Count;
            device.Drain(3);
            await WaitForAsync(() => device.Taken.Count >= Math.Min(2_000, before + 3));
        }

        device.Taken.Should().Equal(Enumerable.Range(0, 2_000));
        (feed.Delivered, feed.Pending, feed.Refused).Should().Be((2_000, 0, 0));
    }

    [Fact]
    public void Clients_take_turns_so_a_paste_does_not_hold_up_another_clients_typing()
    {
        var device = new SmallDevice(room: 0);
        var feed = new InputFeed<int>(device.TryTake);
        var paste = feed.Open(limit: 100_000);
        var typist = feed.Open(limit: 100_000);
        for (int i = 0; i < 50_000; i++)
        {
            paste.TryAdd(i).Should().BeTrue();
        }

        typist.TryAdd(-1).Should().BeTrue();
        typist.TryAdd(-2).Should().BeTrue();
        device.Drain(6);
        feed.Pump();

        device.Taken.Should().Equal(0, -1, 1, -2, 2, 3);
    }

    [Fact]
    public void Past_its_bound_a_client_is_refused_and_counted_while_others_still_queue()
    {
        var device = new SmallDevice(room: 0);
        var feed = new InputFeed<int>(device.TryTake);
        var flood = feed.Open(limit: 3);
        var other = feed.Open(limit: 3);

        Enumerable.Range(0, 5).Select(flood.TryAdd).Should().Equal(true, true, true, false, false);
        other.TryAdd(9).Should().BeTrue();
        (flood.Refused, other.Refused, feed.Refused, feed.Pending).Should().Be((2, 0, 2, 4));

        flood.AddPastLimit(100);   // what must never be refused: a leaving client's key releases
        device.Drain(10);
        feed.Pump();
        device.Taken.Should().Equal(0, 9, 1, 2, 100);
    }

    [Fact]
    public async Task A_closed_clients_queue_is_still_delivered_and_a_waiting_reader_gets_room_as_it_drains()
    {
        var device = new SmallDevice(room: 1);
        var feed = new InputFeed<int>(device.TryTake);
        device.RoomAvailable = feed.RoomAvailable;
        var client = feed.Open(limit: 2);
        client.Add(1);
        client.Add(2);
        client.Add(3);
        client.TryAdd(4).Should().BeFalse("the device took 1, and 2 and 3 fill the queue");

        Task room = client.WaitForRoomAsync(TestContext.Current.CancellationToken);
        room.IsCompleted.Should().BeFalse();
        device.Drain(1);
        await room.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        client.Close();
        device.Drain(5);
        await WaitForAsync(() => device.Taken.Count == 3);
        device.Taken.Should().Equal(1, 2, 3);
        feed.Pending.Should().Be(0);
    }
}
