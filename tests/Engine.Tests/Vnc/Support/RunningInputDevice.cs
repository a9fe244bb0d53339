using Platform.Devices.Tests.Fakes;
using Platform.Devices.Tests.Virtio;
using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Input;
using static Platform.Devices.Tests.Virtio.FakeBuffer;

namespace Platform.Engine.Tests.Vnc.Support;

/// <summary>
/// A virtio-input device whose driver is running, without a PCI transport: activated on an event queue in fake
/// guest memory with buffers posted, so a test reads back the events the device delivered.
/// </summary>
public sealed class RunningInputDevice : IVirtioTransport, IDisposable
{
    private readonly FakeGuestMemory _memory = new(1 << 20);
    private readonly FakeVirtQueue _events;
    private int _read;

    public RunningInputDevice(VirtioInput device)
    {
        Device = device;
        _events = new FakeVirtQueue(_memory, VirtioInput.QueueSize);
        for (int i = 0; i < VirtioInput.QueueSize; i++)
        {
            _events.AddChain(Writable(InputEvent.Size));
        }

        device.Activate(new VirtioActivation(_memory, VirtioFeatures.Version1, [_events.CreateQueue(), null], this));
    }

    public VirtioInput Device { get; }

    public void Dispose() => Device.Reset();

    /// <summary>Waits for <paramref name="count"/> more events (at most 64 in all) and returns them, oldest first.</summary>
    public IReadOnlyList<InputEvent> Read(int count)
    {
        SpinWait.SpinUntil(() => _events.UsedIndex - _read >= count, TimeSpan.FromSeconds(10)).Should().BeTrue($"{count} events arrive");
        var events = new List<InputEvent>();
        for (int i = 0; i < count; i++, _read++)
        {
            events.Add(InputEvent.ReadFrom(_events.ReadBuffer(_events.Used(_read).Id, InputEvent.Size)));
        }

        return events;
    }

    /// <summary>Events delivered and not read yet.</summary>
    public int Unread => _events.UsedIndex - _read;

    /// <summary>Why the device gave up on the driver, if it did.</summary>
    public string? Error { get; private set; }

    public void SignalUsedBuffers(int queueIndex)
    {
    }

    public void SignalConfigChanged()
    {
    }

    public void ReportDeviceError(string reason) => Error = reason;
}
