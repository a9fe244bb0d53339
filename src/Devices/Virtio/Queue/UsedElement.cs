namespace Platform.Devices.Virtio.Queue;

/// <summary>One entry of the used ring: the chain's head and how many bytes the device wrote into it.</summary>
public readonly record struct UsedElement(ushort Head, uint Length);
