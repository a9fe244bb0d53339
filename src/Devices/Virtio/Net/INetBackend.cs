namespace Platform.Devices.Virtio.Net;

/// <summary>
/// Where a virtio-net device's frames come from and go to: a TAP device in the engine (opened with TUNSETIFF and
/// IFF_VNET_HDR, header size 12 via TUNSETVNETHDRSZ), or a fake in tests. Frames are Ethernet frames, prefixed with
/// the 12-byte <c>virtio_net_hdr_v1</c> when <see cref="HasVirtioHeader"/> — then the header passes through unchanged in
/// both directions, which is what makes checksum and segmentation offloads work end to end.
/// </summary>
/// <remarks>
/// <see cref="Send"/> and <see cref="Receive"/> are called on the device's worker thread only and must not block for
/// long (a TAP fd is non-blocking). The backend calls the notifier it was given (from any thread) whenever a frame
/// may have become readable; spurious calls are harmless.
/// </remarks>
public interface INetBackend : IDisposable
{
    /// <summary>True when frames carry a virtio_net_hdr_v1 (IFF_VNET_HDR); false for plain Ethernet frames.</summary>
    bool HasVirtioHeader { get; }

    /// <summary>
    /// Offload feature bits (VIRTIO_NET_F_CSUM, GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN, GUEST_UFO, HOST_TSO4/6, HOST_ECN,
    /// HOST_UFO) the backend can honour; the device offers these and nothing else from that group.
    /// </summary>
    ulong SupportedOffloads { get; }

    /// <summary>Called at activation with the negotiated offload bits (the TAP backend sets TUNSETOFFLOAD from the GUEST_* ones).</summary>
    void EnableOffloads(ulong negotiatedOffloads);

    /// <summary>Registers the callback that wakes the device when frames arrive.</summary>
    void SetReceiveNotifier(Action frameAvailable);

    /// <summary>Sends one frame; false if it was dropped (the device counts it).</summary>
    bool Send(ReadOnlySpan<byte> frame);

    /// <summary>Copies the next frame into <paramref name="buffer"/> and returns its length; 0 when none is waiting.</summary>
    int Receive(Span<byte> buffer);
}
