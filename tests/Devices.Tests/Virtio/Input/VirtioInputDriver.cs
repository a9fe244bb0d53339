using System.Text;
using Platform.Devices.Tests.Fakes;
using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Input;
using static Platform.Devices.Tests.Virtio.FakeBuffer;

namespace Platform.Devices.Tests.Virtio.Input;

/// <summary>
/// The guest's side of a virtio-input device as Linux's virtio_input driver drives it: the select/subsel questions
/// of its probe, 8-byte event buffers posted to the event queue and read back in used-ring order, and status
/// events (LED changes) sent through the status queue.
/// </summary>
public sealed class VirtioInputDriver : IDisposable
{
    private readonly FakeGuestMemory _memory = new(1 << 20);
    private int _eventsRead;

    public VirtioInputDriver(VirtioInput device)
    {
        Device = device;
        Transport = new VirtioPciDevice(device, _memory, Msi, new RecordingInterruptLine());
        Pci = new VirtioPciDriver(Transport);
        EventQueue = new FakeVirtQueue(_memory, VirtioInput.QueueSize, 0x1000);
        StatusQueue = new FakeVirtQueue(_memory, VirtioInput.QueueSize, 0x40000);
    }

    public VirtioInput Device { get; }

    public VirtioPciDevice Transport { get; }

    public VirtioPciDriver Pci { get; }

    public RecordingMsiTarget Msi { get; } = new();

    public FakeVirtQueue EventQueue { get; private set; }

    public FakeVirtQueue StatusQueue { get; private set; }

    public void Dispose() => Transport.Dispose();

    /// <summary>Reset, features, both queues, DRIVER_OK; returns the final status.</summary>
    public VirtioDeviceStatus Start() => Pci.Initialize(msix: true, null, EventQueue, StatusQueue);

    /// <summary>Resets the device and starts again on new queues elsewhere in memory, as a reloaded driver would.</summary>
    public VirtioDeviceStatus Restart()
    {
        EventQueue = new FakeVirtQueue(_memory, VirtioInput.QueueSize, 0x80000);
        StatusQueue = new FakeVirtQueue(_memory, VirtioInput.QueueSize, 0xC0000);
        _eventsRead = 0;
        Msi.Clear();
        return Start();
    }

    /// <summary>Writes select and subsel as Linux does (two byte writes) and reads back size and the union.</summary>
    public (int Size, byte[] Union) Select(byte select, int subsel)
    {
        Pci.Write8(VirtioPciDevice.DeviceConfigOffset + VirtioInput.SelectOffset, select);
        Pci.Write8(VirtioPciDevice.DeviceConfigOffset + VirtioInput.SubselOffset, (byte)subsel);
        int size = Pci.Read8(VirtioPciDevice.DeviceConfigOffset + VirtioInput.SizeOffset);
        byte[] union = new byte[InputDeviceDescription.MaxAnswerLength];
        for (int i = 0; i < union.Length; i++)
        {
            union[i] = Pci.Read8(VirtioPciDevice.DeviceConfigOffset + VirtioInput.UnionOffset + (ulong)i);
        }

        return (size, union);
    }

    public string SelectString(byte select)
    {
        var (size, union) = Select(select, 0);
        return Encoding.ASCII.GetString(union, 0, size);
    }

    /// <summary>Posts <paramref name="count"/> 8-byte device-writable buffers and notifies, as virtinput_fill_evt does.</summary>
    public void PostEventBuffers(int count, uint length = InputEvent.Size)
    {
        for (int i = 0; i < count; i++)
        {
            EventQueue.AddChain(Writable(length));
        }

        Pci.Notify(VirtioInput.EventQueue);
    }

    /// <summary>Waits until <paramref name="count"/> more events are in the used ring and returns them, oldest first.</summary>
    public IReadOnlyList<InputEvent> ReadEvents(int count)
    {
        SpinWait.SpinUntil(() => (ushort)(EventQueue.UsedIndex - _eventsRead) >= count, TimeSpan.FromSeconds(10))
            .Should().BeTrue($"{count} events arrive (the device delivered {(ushort)(EventQueue.UsedIndex - _eventsRead)})");
        var events = new List<InputEvent>();
        for (int i = 0; i < count; i++)
        {
            var (id, length) = EventQueue.Used(_eventsRead++);
            length.Should().Be((uint)InputEvent.Size);
            events.Add(InputEvent.ReadFrom(EventQueue.ReadBuffer(id, InputEvent.Size)));
        }

        return events;
    }

    /// <summary>Events delivered and not yet read.</summary>
    public int UnreadEvents => (ushort)(EventQueue.UsedIndex - _eventsRead);

    /// <summary>Sends one status event (an LED change) and waits until the device has returned the buffer.</summary>
    public void SendStatus(InputEvent status)
    {
        byte[] bytes = new byte[InputEvent.Size];
        status.WriteTo(bytes);
        SendStatusBuffer(Readable(bytes));
    }

    public void SendStatusBuffer(params FakeBuffer[] buffers)
    {
        ushort used = StatusQueue.UsedIndex;
        StatusQueue.AddChain(buffers);
        Pci.Notify(VirtioInput.StatusQueue);
        SpinWait.SpinUntil(() => StatusQueue.UsedIndex != used, TimeSpan.FromSeconds(10)).Should().BeTrue("the device consumes status buffers");
    }
}
