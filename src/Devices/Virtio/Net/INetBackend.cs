namespace Platform.Devices.Virtio.Net;

/// <summary>
/// Where a virtio-net device's frames come from and go to: a TAP device (opened with IFF_VNET_HDR, header size 12),
/// a passt process over a stream socket, or a fake in tests. Frames are Ethernet frames, prefixed with the 12-byte
/// <c>virtio_net_hdr_v1</c> when <see cref="HasVirtioHeader"/> — then the header passes through unchanged in both
/// directions, which is what makes checksum and segmentation offloads work end to end.
/// </summary>
/// <remarks>
/// <para>Received frames are read in place: <see cref="PeekFrame"/> shows the next one in the backend's own buffer
/// and the device copies it straight into the guest's receive buffers, then calls <see cref="ConsumeFrame"/>. A frame
/// the guest has no room for yet stays peeked, and the backend reads nothing more meanwhile: that is the
/// back-pressure the host side sees.</para>
/// <para>Sending is the same the other way: while <see cref="CanSend"/> is false the device leaves the guest's frames
/// in its transmit queue, until the backend calls the send-ready notifier.</para>
/// <para>Every method but the notifiers' registration is called on the device's worker thread only and must not
/// block for long. The backend calls the notifiers from any thread; spurious calls are harmless.</para>
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

    /// <summary>Registers the callbacks that wake the device when frames arrive and when a full backend can take frames again.</summary>
    void SetNotifiers(Action frameAvailable, Action sendReady);

    /// <summary>The next received frame, in the backend's buffer until <see cref="ConsumeFrame"/>; empty when none waits.</summary>
    ReadOnlySpan<byte> PeekFrame();

    /// <summary>The peeked frame has been delivered (or dropped); the next <see cref="PeekFrame"/> shows the one after it.</summary>
    void ConsumeFrame();

    /// <summary>False while the backend cannot take a frame without dropping it.</summary>
    bool CanSend { get; }

    /// <summary>Sends one frame; false if it was dropped (the device counts it).</summary>
    bool Send(ReadOnlySpan<byte> frame);
}
