namespace Platform.Devices.Virtio.Queue;

/// <summary>One checked buffer of a descriptor chain: [Address, Address + Length) lies in guest RAM.</summary>
public readonly record struct GuestBuffer(ulong Address, uint Length);
