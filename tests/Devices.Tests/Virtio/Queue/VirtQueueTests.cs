using Platform.Devices.Tests.Fakes;
using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Queue;
using static Platform.Devices.Tests.Virtio.FakeBuffer;

namespace Platform.Devices.Tests.Virtio.Queue;

// The split virtqueue against a driver that FakeVirtQueue plays: well-formed chains, then every malformed case.
public sealed class VirtQueueTests
{
    private const ushort Size = 8;
    private readonly FakeGuestMemory _memory = new(1 << 20);
    private readonly FakeVirtQueue _driver;

    public VirtQueueTests() => _driver = new FakeVirtQueue(_memory, Size);

    private static VirtQueueFault PopFault(VirtQueue queue)
    {
        queue.TryPop(out _).Should().BeFalse();
        return queue.Fault;
    }

    [Fact]
    public void A_chain_pops_with_readable_buffers_first_and_reads_and_writes_across_buffers()
    {
        var queue = _driver.CreateQueue();
        ushort head = _driver.AddChain(Readable([1, 2, 3]), Readable([4, 5]), Writable(2), Writable(4));

        queue.TryPop(out var chain).Should().BeTrue();
        chain.Head.Should().Be(head);
        chain.Readable.Length.Should().Be(2);
        chain.Writable.Length.Should().Be(2);
        chain.ReadableLength.Should().Be(5);
        chain.WritableLength.Should().Be(6);

        var all = new byte[5];
        chain.Read(0, all).Should().Be(5);
        all.Should().Equal(1, 2, 3, 4, 5);
        var tail = new byte[4];
        chain.Read(2, tail).Should().Be(3, "only three readable bytes follow offset 2");
        tail.Should().Equal(3, 4, 5, 0);

        chain.Write(1, [9, 8, 7]).Should().Be(3);
        _driver.ReadBuffer(2, 2).Should().Equal(0, 9);
        _driver.ReadBuffer(3, 4).Should().Equal(8, 7, 0, 0);
        queue.TryPop(out _).Should().BeFalse();
        queue.Fault.Should().Be(VirtQueueFault.None);
    }

    [Fact]
    public void AddUsed_publishes_the_element_then_the_index()
    {
        var queue = _driver.CreateQueue();
        ushort head = _driver.AddChain(Writable(4));
        queue.TryPop(out var chain).Should().BeTrue();
        queue.AddUsed(chain.Head, 4);

        _driver.UsedIndex.Should().Be(1);
        _driver.Used(0).Should().Be((head, 4u));
    }

    [Fact]
    public void Several_used_elements_are_published_with_one_index_update()
    {
        var queue = _driver.CreateQueue();
        ushort first = _driver.AddChain(Writable(4));
        ushort second = _driver.AddChain(Writable(4));
        queue.TryPop(out _).Should().BeTrue();
        queue.TryPop(out _).Should().BeTrue();

        queue.AddUsed([new UsedElement(second, 3), new UsedElement(first, 0)]);

        _driver.UsedIndex.Should().Be(2);
        _driver.Used(0).Should().Be((second, 3u));
        _driver.Used(1).Should().Be((first, 0u));
    }

    [Fact]
    public void Chains_put_back_pop_again_in_order()
    {
        var queue = _driver.CreateQueue();
        ushort first = _driver.AddChain(Writable(4));
        ushort second = _driver.AddChain(Writable(8));
        queue.TryPop(out _).Should().BeTrue();
        queue.TryPop(out _).Should().BeTrue();

        queue.PutBack(2);

        queue.ChainsPopped.Should().Be(0);
        queue.TryPop(out var again).Should().BeTrue();
        again.Head.Should().Be(first);
        queue.TryPop(out again).Should().BeTrue();
        again.Head.Should().Be(second);
        again.WritableLength.Should().Be(8);
        FluentActions.Invoking(() => queue.PutBack(3)).Should().Throw<ArgumentOutOfRangeException>("only two are out");
    }

    [Fact]
    public void Suppressed_notifications_put_avail_event_far_ahead_until_the_queue_is_found_empty()
    {
        var queue = _driver.CreateQueue(VirtioFeatures.RingEventIndex);
        _driver.AddChain(Writable(4));
        queue.TryPop(out _).Should().BeTrue();

        queue.SuppressNotifications();
        _driver.AvailEvent.Should().Be(1 + 0x8000);
        queue.HasAvailable.Should().BeFalse();
        _driver.AddChain(Writable(4));
        queue.HasAvailable.Should().BeTrue();
        _driver.AvailEvent.Should().Be(1 + 0x8000, "looking writes nothing");

        queue.TryPop(out _).Should().BeTrue();
        queue.TryPop(out _).Should().BeFalse();
        _driver.AvailEvent.Should().Be(2, "an empty queue asks for the next notification again");
    }

    [Fact]
    public void Without_EVENT_IDX_suppressed_notifications_are_the_NO_NOTIFY_flag_until_the_queue_is_found_empty()
    {
        var queue = _driver.CreateQueue();
        queue.SuppressNotifications();
        _driver.UsedFlags.Should().Be(1);

        queue.TryPop(out _).Should().BeFalse();
        _driver.UsedFlags.Should().Be(0);
    }

    [Fact]
    public void Without_EVENT_IDX_the_drivers_NO_INTERRUPT_flag_suppresses_signals()
    {
        var queue = _driver.CreateQueue();
        _driver.AddChain(Writable(1));
        queue.TryPop(out var chain).Should().BeTrue();
        queue.AddUsed(chain.Head, 0);
        queue.ShouldSignalDriver().Should().BeTrue();
        queue.ShouldSignalDriver().Should().BeFalse("nothing new was used since");

        _driver.SetAvailFlags(1);
        _driver.AddChain(Writable(1));
        queue.TryPop(out chain).Should().BeTrue();
        queue.AddUsed(chain.Head, 0);
        queue.ShouldSignalDriver().Should().BeFalse();
    }

    [Fact]
    public void With_EVENT_IDX_the_queue_publishes_avail_event_and_honours_used_event()
    {
        var queue = _driver.CreateQueue(VirtioFeatures.RingEventIndex);
        for (int i = 0; i < 3; i++)
        {
            _driver.AddChain(Writable(1));
        }

        _driver.SetUsedEvent(1); // interrupt once the second buffer is used
        for (int i = 0; i < 3; i++)
        {
            queue.TryPop(out var chain).Should().BeTrue();
            queue.AddUsed(chain.Head, 0);
            queue.ShouldSignalDriver().Should().Be(i == 1, $"used index {i + 1} crosses used_event only at 2");
        }

        queue.TryPop(out _).Should().BeFalse();
        _driver.AvailEvent.Should().Be(3, "the dry queue asks to be notified for the next buffer");
    }

    [Fact]
    public void Indirect_descriptors_are_followed_when_negotiated()
    {
        var queue = _driver.CreateQueue(VirtioFeatures.RingIndirectDescriptors);
        _driver.AddIndirectChain(Readable([7, 7]), Writable(3));
        queue.TryPop(out var chain).Should().BeTrue();
        chain.ReadableLength.Should().Be(2);
        chain.WritableLength.Should().Be(3);
    }

    [Fact]
    public void The_indices_wrap_at_65536()
    {
        var queue = _driver.CreateQueue();
        ushort head = _driver.AddChain(Writable(1));
        for (int i = 0; i < 70_000; i++)
        {
            if (i > 0)
            {
                _driver.Publish(head); // the driver offers the same, now used, buffer again
            }

            queue.TryPop(out var chain).Should().BeTrue();
            chain.Head.Should().Be(head);
            queue.AddUsed(chain.Head, 1);
        }

        _driver.UsedIndex.Should().Be(unchecked((ushort)70_000));
        queue.Fault.Should().Be(VirtQueueFault.None);
    }

    [Fact]
    public void An_available_index_more_than_the_queue_size_ahead_is_impossible()
    {
        var queue = _driver.CreateQueue();
        _driver.SetAvailIndex(Size + 1);
        PopFault(queue).Should().Be(VirtQueueFault.ImpossibleAvailIndex);
    }

    [Fact]
    public void A_head_index_outside_the_table_faults()
    {
        var queue = _driver.CreateQueue();
        _driver.Publish(Size);
        PopFault(queue).Should().Be(VirtQueueFault.HeadIndexOutOfRange);
    }

    [Fact]
    public void A_next_index_outside_the_table_faults()
    {
        var queue = _driver.CreateQueue();
        ulong buffer = _driver.Allocate(16);
        _driver.SetDescriptor(0, buffer, 16, FakeVirtQueue.FlagNext, Size);
        _driver.Publish(0);
        PopFault(queue).Should().Be(VirtQueueFault.NextIndexOutOfRange);
    }

    [Fact]
    public void A_descriptor_loop_is_cut_at_the_queue_size()
    {
        var queue = _driver.CreateQueue();
        ulong buffer = _driver.Allocate(16);
        _driver.SetDescriptor(0, buffer, 16, FakeVirtQueue.FlagNext, 1);
        _driver.SetDescriptor(1, buffer, 16, FakeVirtQueue.FlagNext, 0);
        _driver.Publish(0);
        PopFault(queue).Should().Be(VirtQueueFault.ChainTooLong);
    }

    [Fact]
    public void A_self_referencing_descriptor_is_a_loop_too()
    {
        var queue = _driver.CreateQueue();
        _driver.SetDescriptor(3, _driver.Allocate(16), 16, FakeVirtQueue.FlagNext, 3);
        _driver.Publish(3);
        PopFault(queue).Should().Be(VirtQueueFault.ChainTooLong);
    }

    [Fact]
    public void An_indirect_table_longer_than_the_queue_size_faults()
    {
        var queue = _driver.CreateQueue(VirtioFeatures.RingIndirectDescriptors);
        _driver.AddIndirectChain([.. Enumerable.Range(0, Size + 1).Select(_ => Writable(1))]);
        PopFault(queue).Should().Be(VirtQueueFault.ChainTooLong);
    }

    [Theory]
    [InlineData(ulong.MaxValue - 3, 16u)]   // address + length wraps
    [InlineData(1UL << 20, 16u)]            // starts past the end of RAM
    [InlineData((1UL << 20) - 8, 16u)]      // runs past the end of RAM
    public void A_buffer_outside_guest_memory_faults(ulong address, uint length)
    {
        var queue = _driver.CreateQueue();
        _driver.SetDescriptor(0, address, length, FakeVirtQueue.FlagWrite, 0);
        _driver.Publish(0);
        PopFault(queue).Should().Be(VirtQueueFault.BufferOutsideMemory);
    }

    [Fact]
    public void A_zero_length_buffer_faults()
    {
        var queue = _driver.CreateQueue();
        _driver.SetDescriptor(0, _driver.Allocate(16), 0, 0, 0);
        _driver.Publish(0);
        PopFault(queue).Should().Be(VirtQueueFault.EmptyBuffer);
    }

    [Fact]
    public void A_readable_buffer_after_a_writable_one_faults()
    {
        var queue = _driver.CreateQueue();
        _driver.AddChain(Writable(4), Readable([1]));
        PopFault(queue).Should().Be(VirtQueueFault.ReadableAfterWritable);
    }

    [Fact]
    public void Indirect_descriptors_without_the_feature_fault()
    {
        var queue = _driver.CreateQueue();
        _driver.AddIndirectChain(Writable(4));
        PopFault(queue).Should().Be(VirtQueueFault.IndirectNotNegotiated);
    }

    [Fact]
    public void A_nested_indirect_table_faults()
    {
        var queue = _driver.CreateQueue(VirtioFeatures.RingIndirectDescriptors);
        ulong inner = _driver.Allocate(16);
        FakeVirtQueue.WriteDescriptor(_memory, inner, 0, _driver.Allocate(4), 4, FakeVirtQueue.FlagWrite, 0);
        ulong outer = _driver.Allocate(16);
        FakeVirtQueue.WriteDescriptor(_memory, outer, 0, inner, 16, FakeVirtQueue.FlagIndirect, 0);
        _driver.SetDescriptor(0, outer, 16, FakeVirtQueue.FlagIndirect, 0);
        _driver.Publish(0);
        PopFault(queue).Should().Be(VirtQueueFault.IndirectMisused);
    }

    [Fact]
    public void An_indirect_descriptor_with_NEXT_faults()
    {
        var queue = _driver.CreateQueue(VirtioFeatures.RingIndirectDescriptors);
        ulong table = _driver.Allocate(16);
        FakeVirtQueue.WriteDescriptor(_memory, table, 0, _driver.Allocate(4), 4, FakeVirtQueue.FlagWrite, 0);
        _driver.SetDescriptor(0, table, 16, FakeVirtQueue.FlagIndirect | FakeVirtQueue.FlagNext, 1);
        _driver.Publish(0);
        PopFault(queue).Should().Be(VirtQueueFault.IndirectMisused);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(20u)]
    public void An_indirect_table_of_a_bad_length_faults(uint length)
    {
        var queue = _driver.CreateQueue(VirtioFeatures.RingIndirectDescriptors);
        _driver.SetDescriptor(0, _driver.Allocate(32), length, FakeVirtQueue.FlagIndirect, 0);
        _driver.Publish(0);
        PopFault(queue).Should().Be(VirtQueueFault.IndirectTableBadLength);
    }

    [Fact]
    public void An_indirect_table_outside_memory_faults()
    {
        var queue = _driver.CreateQueue(VirtioFeatures.RingIndirectDescriptors);
        _driver.SetDescriptor(0, ulong.MaxValue - 15, 32, FakeVirtQueue.FlagIndirect, 0);
        _driver.Publish(0);
        PopFault(queue).Should().Be(VirtQueueFault.BufferOutsideMemory);
    }

    [Fact]
    public void A_loop_inside_an_indirect_table_is_cut()
    {
        var queue = _driver.CreateQueue(VirtioFeatures.RingIndirectDescriptors);
        ulong table = _driver.Allocate(32);
        ulong buffer = _driver.Allocate(4);
        FakeVirtQueue.WriteDescriptor(_memory, table, 0, buffer, 4, FakeVirtQueue.FlagNext, 1);
        FakeVirtQueue.WriteDescriptor(_memory, table, 1, buffer, 4, FakeVirtQueue.FlagNext, 0);
        _driver.SetDescriptor(0, table, 32, FakeVirtQueue.FlagIndirect, 0);
        _driver.Publish(0);
        PopFault(queue).Should().Be(VirtQueueFault.ChainTooLong);
    }

    [Fact]
    public void A_next_outside_an_indirect_table_faults()
    {
        var queue = _driver.CreateQueue(VirtioFeatures.RingIndirectDescriptors);
        ulong table = _driver.Allocate(16);
        FakeVirtQueue.WriteDescriptor(_memory, table, 0, _driver.Allocate(4), 4, FakeVirtQueue.FlagNext, 1);
        _driver.SetDescriptor(0, table, 16, FakeVirtQueue.FlagIndirect, 0);
        _driver.Publish(0);
        PopFault(queue).Should().Be(VirtQueueFault.NextIndexOutOfRange);
    }

    [Fact]
    public void A_faulted_queue_stays_stopped_and_writes_nothing_until_reset()
    {
        var queue = _driver.CreateQueue();
        _driver.Publish(Size);
        PopFault(queue).Should().Be(VirtQueueFault.HeadIndexOutOfRange);
        _driver.AddChain(Writable(4));
        queue.TryPop(out _).Should().BeFalse();
        queue.AddUsed(0, 4);
        _driver.UsedIndex.Should().Be(0);

        queue.Reset();
        queue.Fault.Should().Be(VirtQueueFault.None);
        queue.IsActive.Should().BeFalse();
    }

    [Theory]
    [InlineData(6, 0x1000UL, 0x2000UL, 0x3000UL)]      // not a power of two
    [InlineData(16, 0x1000UL, 0x2000UL, 0x3000UL)]     // above the maximum
    [InlineData(8, 0x1008UL, 0x2000UL, 0x3000UL)]      // descriptor table misaligned
    [InlineData(8, 0x1000UL, 0x2001UL, 0x3000UL)]      // available ring misaligned
    [InlineData(8, 0x1000UL, 0x2000UL, 0x3002UL)]      // used ring misaligned
    [InlineData(8, 0x1000UL, 0x2000UL, (1UL << 20) - 8)] // used ring runs past RAM
    [InlineData(8, ulong.MaxValue - 15, 0x2000UL, 0x3000UL)] // descriptor table wraps
    public void A_layout_the_device_cannot_use_is_refused_at_activation(ushort size, ulong desc, ulong avail, ulong used)
    {
        var queue = new VirtQueue(0, Size) { Size = size, DescriptorTable = desc, DriverArea = avail, DeviceArea = used, Enabled = true };
        queue.TryActivate(_memory, 0).Should().BeFalse();
        queue.Fault.Should().Be(VirtQueueFault.BadLayout);
    }
}
