using Platform.Devices.Tests.Fakes;
using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Rng;
using static Platform.Devices.Tests.Virtio.FakeBuffer;

namespace Platform.Devices.Tests.Virtio.Rng;

// virtio-rng end to end: a driver on the PCI transport, buffers through FakeVirtQueue, interrupts through MSI-X.
public sealed class VirtioRngTests : IDisposable
{
    private readonly FakeGuestMemory _memory = new(1 << 20);
    private readonly RecordingMsiTarget _msi = new();
    private readonly RecordingInterruptLine _intx = new();
    private readonly VirtioRng _rng = new();
    private readonly VirtioPciDevice _transport;
    private readonly VirtioPciDriver _driver;
    private readonly FakeVirtQueue _queue;

    public VirtioRngTests()
    {
        _transport = new VirtioPciDevice(_rng, _memory, _msi, _intx);
        _driver = new VirtioPciDriver(_transport);
        _queue = new FakeVirtQueue(_memory, 64);
    }

    public void Dispose() => _transport.Dispose();

    [Fact]
    public void Writable_buffers_come_back_full_of_entropy()
    {
        _driver.Initialize(msix: true, null, _queue).Should().HaveFlag(VirtioDeviceStatus.DriverOk);
        ushort head = _queue.AddChain(Writable(32), Writable(32));
        _driver.Notify(0);

        _msi.WaitForSignal().Should().BeTrue("the device interrupts on the queue's vector once the buffer is used");
        _msi.Signals.Should().ContainSingle().Which.Vector.Should().Be(1);
        _queue.UsedIndex.Should().Be(1);
        _queue.Used(0).Should().Be((head, 64u));
        _queue.ReadBuffer(head, 32).Concat(_queue.ReadBuffer((ushort)(head + 1), 32)).Should().NotBeEquivalentTo(new byte[64],
            "64 random bytes are all zero with probability 2^-512");
        _rng.BytesServed.Should().Be(64);
    }

    [Fact]
    public void Buffers_offered_before_DRIVER_OK_are_served_at_activation()
    {
        ushort head = _queue.AddChain(Writable(16));
        _driver.Initialize(msix: true, null, _queue);
        _msi.WaitForSignal().Should().BeTrue();
        _queue.Used(0).Should().Be((head, 16u));
    }

    [Fact]
    public void Without_MSI_X_the_device_raises_INTx_and_sets_the_queue_bit_in_ISR()
    {
        _driver.Initialize(msix: false, null, _queue);
        _queue.AddChain(Writable(8));
        _driver.Notify(0);
        SpinWait.SpinUntil(() => _intx.Asserted, TimeSpan.FromSeconds(10)).Should().BeTrue();
        _driver.Read8(VirtioPciDevice.IsrOffset).Should().Be(1);
        _intx.Asserted.Should().BeFalse();
    }

    [Fact]
    public void A_malformed_chain_sets_NEEDS_RESET_raises_a_config_interrupt_and_counts_an_error()
    {
        _driver.Initialize(msix: true, null, _queue);
        _queue.SetAvailIndex(100); // more than the 64 entries the queue has
        _driver.Notify(0);

        _msi.WaitForSignal().Should().BeTrue();
        _msi.Signals.Should().ContainSingle().Which.Vector.Should().Be(0, "vector 0 is the configuration vector");
        _driver.Status.Should().HaveFlag(VirtioDeviceStatus.DeviceNeedsReset);
        _rng.Errors.Should().Be(1);
        _rng.LastError.Should().Contain("ImpossibleAvailIndex");
        _transport.DeviceErrors.Should().Be(1);
    }

    [Fact]
    public void After_a_reset_the_driver_can_start_over_and_the_device_works_again()
    {
        _driver.Initialize(msix: true, null, _queue);
        _queue.Publish(200); // head index outside the table
        _driver.Notify(0);
        _msi.WaitForSignal().Should().BeTrue();
        _driver.Status.Should().HaveFlag(VirtioDeviceStatus.DeviceNeedsReset);

        var fresh = new FakeVirtQueue(_memory, 64, 0x80000);
        _msi.Clear();
        _driver.Initialize(msix: true, null, fresh).Should().NotHaveFlag(VirtioDeviceStatus.DeviceNeedsReset);
        ushort head = fresh.AddChain(Writable(4));
        _driver.Notify(0);
        _msi.WaitForSignal().Should().BeTrue();
        fresh.Used(0).Should().Be((head, 4u));
    }

    [Fact]
    public void A_request_without_writable_buffers_is_answered_with_zero_bytes()
    {
        _driver.Initialize(msix: true, null, _queue);
        ushort head = _queue.AddChain(Readable([1, 2, 3]));
        _driver.Notify(0);
        _msi.WaitForSignal().Should().BeTrue();
        _queue.Used(0).Should().Be((head, 0u));
    }

    [Fact]
    public void With_EVENT_IDX_the_device_interrupts_only_past_used_event()
    {
        _driver.Initialize(msix: true, VirtioFeatures.Version1 | VirtioFeatures.RingEventIndex, _queue);
        _queue.SetUsedEvent(1);
        _queue.AddChain(Writable(4));
        _queue.AddChain(Writable(4));
        _driver.Notify(0);

        _msi.WaitForSignal().Should().BeTrue();
        _queue.UsedIndex.Should().Be(2);
        _msi.SignalCount(1).Should().Be(1);
        _queue.AvailEvent.Should().Be(2, "the device asks to hear of the next buffer");
    }
}
