namespace Platform.Devices.Virtio;

/// <summary>Device-independent feature bits (virtio 1.2, section 6), as masks.</summary>
public static class VirtioFeatures
{
    public const ulong RingIndirectDescriptors = 1UL << 28;
    public const ulong RingEventIndex = 1UL << 29;
    public const ulong Version1 = 1UL << 32;

    /// <summary>What the transport and our split queues implement for every device.</summary>
    public const ulong Transport = RingIndirectDescriptors | RingEventIndex | Version1;

    public static bool Has(ulong features, ulong bit) => (features & bit) != 0;
}

/// <summary>Device IDs (virtio 1.2, section 5): the PCI device ID is 0x1040 + the ID.</summary>
public enum VirtioDeviceType : ushort
{
    Network = 1,
    Block = 2,
    Console = 3,
    Entropy = 4,
    Input = 18,
}

/// <summary>The device status register's bits (virtio 1.2, 2.1).</summary>
[Flags]
public enum VirtioDeviceStatus : byte
{
    None = 0,
    Acknowledge = 1,
    Driver = 2,
    DriverOk = 4,
    FeaturesOk = 8,
    DeviceNeedsReset = 64,
    Failed = 128,
}
