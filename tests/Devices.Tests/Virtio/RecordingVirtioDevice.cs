using Platform.Devices.Virtio;

namespace Platform.Devices.Tests.Virtio;

/// <summary>A transport-free device that records what its transport did to it; 8 bytes of writable configuration.</summary>
public sealed class RecordingVirtioDevice(params ushort[] queueSizes) : IVirtioDevice
{
    private readonly byte[] _config = [1, 2, 3, 4, 5, 6, 7, 8];
    private int _notifications;

    public VirtioDeviceType DeviceType => VirtioDeviceType.Entropy;

    public IReadOnlyList<ushort> QueueMaxSizes { get; } = queueSizes.Length == 0 ? [16, 16] : queueSizes;

    public ulong DeviceFeatures { get; init; } = 1UL << 5;

    public int ConfigSize => _config.Length;

    public List<VirtioActivation> Activations { get; } = [];

    public int Resets { get; private set; }

    public int Notifications => Volatile.Read(ref _notifications);

    public int LastNotifiedQueue { get; private set; } = -1;

    public void ReadConfig(int offset, Span<byte> data) => _config.AsSpan(offset, data.Length).CopyTo(data);

    public void WriteConfig(int offset, ReadOnlySpan<byte> data) => data.CopyTo(_config.AsSpan(offset));

    public void Activate(VirtioActivation activation) => Activations.Add(activation);

    public void QueueNotified(int queueIndex)
    {
        LastNotifiedQueue = queueIndex;
        Interlocked.Increment(ref _notifications);
    }

    public void Reset() => Resets++;

    public void Dispose()
    {
    }
}
