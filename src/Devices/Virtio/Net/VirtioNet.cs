using System.Buffers.Binary;
using System.Net.NetworkInformation;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio.Net;

/// <summary>
/// virtio-net (virtio 1.2 5.1) over an <see cref="INetBackend"/>: a receive, a transmit and a control queue, the MAC
/// address and link status in configuration space, mergeable receive buffers, the receive filter and MAC address
/// commands, guest announcements, and the backend's checksum/segmentation offloads offered and passed through (the
/// <c>virtio_net_hdr_v1</c> travels between the guest and the backend, checked against what was negotiated).
/// </summary>
/// <remarks>
/// <para>The concerns live in partial files: receiving (<c>VirtioNet.Receive.cs</c>), transmitting
/// (<c>VirtioNet.Transmit.cs</c>) and the control queue (<c>VirtioNet.Control.cs</c>). All queue work, the control
/// queue's included, runs on the device's one worker thread, so the filter and the negotiated state need no lock;
/// only what the vCPU threads read (the MAC and status in configuration space) is published atomically.</para>
/// <para>A received frame waits in the backend (peeked, not consumed) while the guest has no receive buffers, and is
/// copied once, from the backend's buffer into the guest's, when it has; the backend reads nothing more meanwhile,
/// which is the back-pressure the host side sees. The other way, the guest's frames stay in its transmit queue while
/// the backend cannot take them (a passt socket whose buffer is full), instead of being dropped.</para>
/// <para>Whatever the guest gets wrong (a buffer without room for the header, a malformed control command, an offload
/// it did not negotiate) is counted and answered or dropped; only a broken queue puts the device in NEEDS_RESET.</para>
/// <para>The device watches the frames the guest sends for the addresses it uses (<see cref="GuestAddresses"/>), so
/// the dashboard can show them whatever the network.</para>
/// </remarks>
public sealed partial class VirtioNet : VirtioDevice
{
    public const ushort QueueSize = 256;
    /// <summary>The control queue carries a few commands at a time (QEMU's and Linux's size).</summary>
    public const ushort ControlQueueSize = 64;
    public const int ReceiveQueue = 0, TransmitQueue = 1, ControlQueue = 2;
    /// <summary>virtio_net_hdr_v1: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers.</summary>
    public const int HeaderSize = 12;
    /// <summary>Largest frame with offloads: a 64 KiB GSO packet plus its Ethernet header.</summary>
    public const int MaxFrameSize = 65536 + 14;

    public const ulong FeatureCsum = 1UL << 0;
    public const ulong FeatureGuestCsum = 1UL << 1;
    public const ulong FeatureMac = 1UL << 5;
    public const ulong FeatureGuestTso4 = 1UL << 7;
    public const ulong FeatureGuestTso6 = 1UL << 8;
    public const ulong FeatureGuestEcn = 1UL << 9;
    public const ulong FeatureGuestUfo = 1UL << 10;
    public const ulong FeatureHostTso4 = 1UL << 11;
    public const ulong FeatureHostTso6 = 1UL << 12;
    public const ulong FeatureHostEcn = 1UL << 13;
    public const ulong FeatureHostUfo = 1UL << 14;
    public const ulong FeatureMrgRxbuf = 1UL << 15;
    public const ulong FeatureStatus = 1UL << 16;
    public const ulong FeatureCtrlVq = 1UL << 17;
    public const ulong FeatureCtrlRx = 1UL << 18;
    public const ulong FeatureCtrlRxExtra = 1UL << 20;
    public const ulong FeatureGuestAnnounce = 1UL << 21;
    public const ulong FeatureCtrlMacAddr = 1UL << 23;

    /// <summary>The offload bits a backend may support.</summary>
    public const ulong OffloadFeatures = FeatureCsum | FeatureGuestCsum | FeatureGuestTso4 | FeatureGuestTso6 | FeatureGuestEcn |
        FeatureGuestUfo | FeatureHostTso4 | FeatureHostTso6 | FeatureHostEcn | FeatureHostUfo;

    /// <summary>What the control queue brings; each means nothing unless <see cref="FeatureCtrlVq"/> is negotiated too.</summary>
    public const ulong ControlFeatures = FeatureCtrlVq | FeatureCtrlRx | FeatureCtrlRxExtra | FeatureGuestAnnounce | FeatureCtrlMacAddr;

    public const ushort StatusLinkUp = 1;
    public const ushort StatusAnnounce = 2;
    public const int ConfigLength = 12;

    private const int ReceiveWakeBit = FirstCustomWakeBit;
    private const int SendReadyWakeBit = FirstCustomWakeBit + 1;

    private readonly INetBackend _backend;
    private readonly byte[] _configuredMac;
    /// <summary>The MAC the guest uses (CTRL_MAC_ADDR may change it); touched only on the worker or while it is stopped.</summary>
    private readonly byte[] _mac;
    private readonly GuestAddressWatch _addresses;
    private readonly ReceiveFilter _filter = new();
    /// <summary><see cref="_mac"/> packed into the low 48 bits, for readers on other threads.</summary>
    private long _publishedMac;
    private volatile bool _linkUp = true;
    private volatile bool _announcePending;
    /// <summary>The negotiated features with those that lack what they depend on taken out (set at activation).</summary>
    private ulong _features;
    private Counters _counters;

    public VirtioNet(INetBackend backend, PhysicalAddress mac)
        : base(VirtioDeviceType.Network, [QueueSize, QueueSize, ControlQueueSize])
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(mac);
        _configuredMac = mac.GetAddressBytes();
        if (_configuredMac.Length != 6 || (_configuredMac[0] & 1) != 0)
        {
            throw new ArgumentException("A NIC needs a 6-byte unicast MAC address.", nameof(mac));
        }

        _backend = backend;
        _mac = (byte[])_configuredMac.Clone();
        PublishMac();
        _addresses = new GuestAddressWatch(_mac);
        _transmitFrame = new byte[HeaderSize + MaxFrameSize];
        backend.SetNotifiers(() => Wake(ReceiveWakeBit), () => Wake(SendReadyWakeBit));
    }

    public override ulong DeviceFeatures =>
        FeatureMac | FeatureStatus | FeatureMrgRxbuf | ControlFeatures | (_backend.SupportedOffloads & OffloadFeatures);

    public override int ConfigSize => ConfigLength;

    /// <summary>The MAC address the guest uses now: the configured one, or what it set with CTRL_MAC_ADDR.</summary>
    public PhysicalAddress Mac
    {
        get
        {
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, Interlocked.Read(ref _publishedMac));
            return new PhysicalAddress(bytes[..6].ToArray());
        }
    }

    /// <summary>Where the frames go (the engine shows its own counters).</summary>
    public INetBackend Backend => _backend;

    public bool LinkUp => _linkUp;

    /// <summary>True while the guest has been asked to announce itself and has not acknowledged it.</summary>
    public bool AnnouncePending => _announcePending;

    /// <summary>The IPv4 and IPv6 addresses the guest has sent from on this NIC (latest first seen last).</summary>
    public GuestAddressWatch GuestAddresses => _addresses;

    /// <summary>Times the guest's transmit queue waited for the backend to take frames again.</summary>
    public long TransmitStalls => Interlocked.Read(ref _counters.TxStalls);

    public long FramesReceived => Interlocked.Read(ref _counters.RxFrames);

    public long BytesReceived => Interlocked.Read(ref _counters.RxBytes);

    /// <summary>Received frames that took more than one receive buffer (VIRTIO_NET_F_MRG_RXBUF).</summary>
    public long FramesMerged => Interlocked.Read(ref _counters.RxMerged);

    public long FramesSent => Interlocked.Read(ref _counters.TxFrames);

    public long BytesSent => Interlocked.Read(ref _counters.TxBytes);

    /// <summary>Frames lost: too big for the receive buffers, malformed, refused by the backend, or malformed transmit chains.</summary>
    public long FramesDropped => Interlocked.Read(ref _counters.Dropped);

    /// <summary>Frames from the backend the guest's receive filter turned away (not counted as dropped).</summary>
    public long FramesFiltered => Interlocked.Read(ref _counters.Filtered);

    /// <summary>Receive chains too short for the 12-byte header, returned empty.</summary>
    public long BadReceiveChains => Interlocked.Read(ref _counters.BadRxChains);

    /// <summary>Frames whose header asked for an offload that was not negotiated, dropped (either direction).</summary>
    public long BadOffloadHeaders => Interlocked.Read(ref _counters.BadOffloads);

    /// <summary>Control commands answered (OK or ERR).</summary>
    public long ControlCommands => Interlocked.Read(ref _counters.CtrlCommands);

    /// <summary>Control commands answered VIRTIO_NET_ERR: unknown, not negotiated, or malformed.</summary>
    public long ControlErrors => Interlocked.Read(ref _counters.CtrlErrors);

    /// <summary>Control chains without a byte to write the answer into, returned unanswered.</summary>
    public long BadControlChains => Interlocked.Read(ref _counters.BadCtrlChains);

    /// <summary>The receive filter the guest set with the control queue (promiscuous until it says otherwise).</summary>
    public ReceiveFilter Filter => _filter;

    /// <summary>
    /// Changes the link status the guest sees and tells it with a configuration interrupt. A link that comes back also
    /// asks the guest to announce itself (VIRTIO_NET_F_GUEST_ANNOUNCE), so switches learn where its MAC now is.
    /// </summary>
    public void SetLinkUp(bool up)
    {
        if (_linkUp == up)
        {
            return;
        }

        _linkUp = up;
        if (up && TryRaiseAnnounce())
        {
            return; // the same configuration interrupt says both
        }

        if (Activation is { } activation && activation.Has(FeatureStatus))
        {
            activation.Transport.SignalConfigChanged();
        }
    }

    /// <summary>
    /// Asks the guest to send gratuitous ARP and unsolicited neighbour advertisements (VIRTIO_NET_S_ANNOUNCE) until it
    /// acknowledges with VIRTIO_NET_CTRL_ANNOUNCE_ACK; false when its driver did not negotiate GUEST_ANNOUNCE.
    /// </summary>
    public bool Announce() => TryRaiseAnnounce();

    public override void ReadConfig(int offset, Span<byte> data)
    {
        Span<byte> config = stackalloc byte[8 + ConfigLength];
        BinaryPrimitives.WriteInt64LittleEndian(config, Interlocked.Read(ref _publishedMac)); // bytes 6 and 7 are zero
        ushort status = (ushort)((_linkUp ? StatusLinkUp : 0) | (_announcePending ? StatusAnnounce : 0));
        BinaryPrimitives.WriteUInt16LittleEndian(config[6..], status);
        BinaryPrimitives.WriteUInt16LittleEndian(config[8..], 1);    // max_virtqueue_pairs (meaningful with MQ only)
        BinaryPrimitives.WriteUInt16LittleEndian(config[10..], 1500); // mtu (meaningful with MTU only)
        config.Slice(offset, data.Length).CopyTo(data);
    }

    protected override void OnActivate(VirtioActivation activation)
    {
        ulong features = activation.Features;
        if ((features & FeatureCtrlVq) == 0)
        {
            // A driver that took these without the queue that carries them (the spec forbids it) gets none of them.
            features &= ~ControlFeatures;
        }

        _features = features;
        _backend.EnableOffloads(features & OffloadFeatures);
    }

    protected override void OnReset()
    {
        // As QEMU: a reset brings back the configured MAC and a promiscuous, empty filter, and forgets an announcement.
        _filter.Reset();
        _configuredMac.CopyTo(_mac, 0);
        PublishMac();
        _announcePending = false;
        _features = 0;
    }

    /// <summary>
    /// False when the backend outlives this device: a VMM keeps each NIC's backend (its passt, its TAP) across guest
    /// resets, since a jailed VMM could not start or open them again. Then Dispose leaves it open.
    /// </summary>
    public bool OwnsBackend { get; init; } = true;

    protected override void Dispose(bool disposing)
    {
        if (disposing && OwnsBackend)
        {
            _backend.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override void ProcessQueue(int queueIndex, VirtQueue queue)
    {
        switch (queueIndex)
        {
            case ReceiveQueue:
                ReceiveInto(queue);
                break;
            case TransmitQueue:
                Transmit(queue);
                break;
            case ControlQueue:
                ProcessControl(queue);
                break;
        }
    }

    protected override void OnCustomWake(int bit)
    {
        var queue = bit switch
        {
            ReceiveWakeBit => Activation?.Queues[ReceiveQueue],
            SendReadyWakeBit => Activation?.Queues[TransmitQueue],
            _ => null,
        };
        if (queue is null)
        {
            return;
        }

        ProcessQueue(bit == ReceiveWakeBit ? ReceiveQueue : TransmitQueue, queue);
        if (queue.Fault != VirtQueueFault.None)
        {
            Fail($"queue {queue.Index}: {queue.Fault}");
        }
    }

    private bool Has(ulong feature) => (_features & feature) != 0;

    private bool TryRaiseAnnounce()
    {
        if (Activation is not { } activation ||
            !activation.Has(FeatureGuestAnnounce) || !activation.Has(FeatureCtrlVq))
        {
            return false;
        }

        _announcePending = true;
        activation.Transport.SignalConfigChanged();
        return true;
    }

    /// <summary>Makes <see cref="_mac"/> visible to <see cref="ReadConfig"/> and <see cref="Mac"/> on other threads in one store.</summary>
    private void PublishMac()
    {
        Span<byte> bytes = stackalloc byte[8];
        _mac.CopyTo(bytes);
        Interlocked.Exchange(ref _publishedMac, BinaryPrimitives.ReadInt64LittleEndian(bytes));
    }

    private struct Counters
    {
        public long RxFrames;
        public long RxBytes;
        public long RxMerged;
        public long TxFrames;
        public long TxBytes;
        public long Dropped;
        public long Filtered;
        public long TxStalls;
        public long BadRxChains;
        public long BadOffloads;
        public long CtrlCommands;
        public long CtrlErrors;
        public long BadCtrlChains;
    }
}
