using System.Buffers.Binary;
using System.Net.NetworkInformation;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio.Net;

/// <summary>
/// virtio-net (virtio 1.2 5.1) over an <see cref="INetBackend"/>: one receive and one transmit queue, the MAC address
/// and link status in configuration space, and the backend's checksum/segmentation offloads offered and passed
/// through (the <c>virtio_net_hdr_v1</c> travels unchanged between the guest and the backend).
/// </summary>
/// <remarks>
/// <para>Without VIRTIO_NET_F_MRG_RXBUF (not offered) each received frame goes into one receive chain, so the driver
/// posts buffers big enough for its largest frame (Linux's "big packets" when it negotiates GUEST_TSO). A frame that
/// does not fit the chain it lands in is dropped and counted; the chain is returned empty.</para>
/// <para>A received frame waits in the backend (peeked, not consumed) while the guest has no receive buffers, and is
/// copied once, from the backend's buffer into the guest's, when it has; the backend reads nothing more meanwhile,
/// which is the back-pressure the host side sees. The other way, the guest's frames stay in its transmit queue while
/// the backend cannot take them (a passt socket whose buffer is full), instead of being dropped.</para>
/// <para>The device watches the frames the guest sends for the addresses it uses (<see cref="GuestAddresses"/>), so
/// the dashboard can show them whatever the network.</para>
/// </remarks>
public sealed class VirtioNet : VirtioDevice
{
    public const ushort QueueSize = 256;
    public const int ReceiveQueue = 0, TransmitQueue = 1;
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
    public const ulong FeatureStatus = 1UL << 16;

    /// <summary>The offload bits a backend may support.</summary>
    public const ulong OffloadFeatures = FeatureCsum | FeatureGuestCsum | FeatureGuestTso4 | FeatureGuestTso6 | FeatureGuestEcn |
        FeatureGuestUfo | FeatureHostTso4 | FeatureHostTso6 | FeatureHostEcn | FeatureHostUfo;

    public const ushort StatusLinkUp = 1;
    public const int ConfigLength = 12;

    private const int ReceiveWakeBit = FirstCustomWakeBit;
    private const int SendReadyWakeBit = FirstCustomWakeBit + 1;

    private readonly INetBackend _backend;
    private readonly byte[] _mac;
    private readonly byte[] _transmitFrame = new byte[HeaderSize + MaxFrameSize];
    private readonly GuestAddressWatch _addresses;
    private volatile bool _linkUp = true;
    private Counters _counters;

    public VirtioNet(INetBackend backend, PhysicalAddress mac)
        : base(VirtioDeviceType.Network, [QueueSize, QueueSize])
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(mac);
        _mac = mac.GetAddressBytes();
        if (_mac.Length != 6 || (_mac[0] & 1) != 0)
        {
            throw new ArgumentException("A NIC needs a 6-byte unicast MAC address.", nameof(mac));
        }

        _backend = backend;
        _addresses = new GuestAddressWatch(_mac);
        backend.SetNotifiers(() => Wake(ReceiveWakeBit), () => Wake(SendReadyWakeBit));
    }

    public override ulong DeviceFeatures => FeatureMac | FeatureStatus | (_backend.SupportedOffloads & OffloadFeatures);

    public override int ConfigSize => ConfigLength;

    public PhysicalAddress Mac => new(_mac);

    /// <summary>Where the frames go (the engine shows its own counters).</summary>
    public INetBackend Backend => _backend;

    public bool LinkUp => _linkUp;

    /// <summary>The IPv4 and IPv6 addresses the guest has sent from on this NIC (latest first seen last).</summary>
    public GuestAddressWatch GuestAddresses => _addresses;

    /// <summary>Times the guest's transmit queue waited for the backend to take frames again.</summary>
    public long TransmitStalls => Interlocked.Read(ref _counters.TxStalls);

    public long FramesReceived => Interlocked.Read(ref _counters.RxFrames);

    public long BytesReceived => Interlocked.Read(ref _counters.RxBytes);

    public long FramesSent => Interlocked.Read(ref _counters.TxFrames);

    public long BytesSent => Interlocked.Read(ref _counters.TxBytes);

    /// <summary>Frames lost: too big for the receive buffer, refused by the backend, or malformed transmit chains.</summary>
    public long FramesDropped => Interlocked.Read(ref _counters.Dropped);

    /// <summary>Changes the link status the guest sees and tells it with a configuration interrupt.</summary>
    public void SetLinkUp(bool up)
    {
        if (_linkUp == up)
        {
            return;
        }

        _linkUp = up;
        if (Activation is { } activation && activation.Has(FeatureStatus))
        {
            activation.Transport.SignalConfigChanged();
        }
    }

    public override void ReadConfig(int offset, Span<byte> data)
    {
        Span<byte> config = stackalloc byte[ConfigLength];
        _mac.CopyTo(config);
        BinaryPrimitives.WriteUInt16LittleEndian(config[6..], _linkUp ? StatusLinkUp : (ushort)0);
        BinaryPrimitives.WriteUInt16LittleEndian(config[8..], 1);    // max_virtqueue_pairs (meaningful with MQ only)
        BinaryPrimitives.WriteUInt16LittleEndian(config[10..], 1500); // mtu (meaningful with MTU only)
        config.Slice(offset, data.Length).CopyTo(data);
    }

    protected override void OnActivate(VirtioActivation activation)
    {
        _backend.EnableOffloads(activation.Features & OffloadFeatures);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _backend.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override void ProcessQueue(int queueIndex, VirtQueue queue)
    {
        if (queueIndex == TransmitQueue)
        {
            Transmit(queue);
        }
        else
        {
            ReceiveInto(queue);
        }
    }

    protected override void OnCustomWake(int bit)
    {
        if (bit == ReceiveWakeBit && Activation?.Queues[ReceiveQueue] is { } receive)
        {
            ReceiveInto(receive);
        }
        else if (bit == SendReadyWakeBit && Activation?.Queues[TransmitQueue] is { } transmit)
        {
            Transmit(transmit);
        }
    }

    private void Transmit(VirtQueue queue)
    {
        bool added = false;
        int skip = _backend.HasVirtioHeader ? 0 : HeaderSize;
        while (true)
        {
            if (!_backend.CanSend)
            {
                Interlocked.Increment(ref _counters.TxStalls); // the rest waits for the send-ready notifier
                break;
            }

            if (!queue.TryPop(out var chain))
            {
                break;
            }

            ulong length = chain.ReadableLength;
            if (length < HeaderSize || length > (ulong)_transmitFrame.Length)
            {
                Interlocked.Increment(ref _counters.Dropped);
            }
            else
            {
                var frame = _transmitFrame.AsSpan(0, (int)length);
                chain.Read(0, frame);
                _addresses.Observe(frame[HeaderSize..]);
                if (_linkUp && _backend.Send(frame[skip..]))
                {
                    Interlocked.Increment(ref _counters.TxFrames);
                    Interlocked.Add(ref _counters.TxBytes, (long)length - HeaderSize);
                }
                else
                {
                    Interlocked.Increment(ref _counters.Dropped);
                }
            }

            queue.AddUsed(chain.Head, 0);
            added = true;
        }

        if (added)
        {
            SignalUsed(queue);
        }
    }

    private void ReceiveInto(VirtQueue queue)
    {
        bool added = false;
        bool withHeader = _backend.HasVirtioHeader;
        // A backend without headers gets the "no offload information" header: no checksum needed, no GSO, one buffer.
        ReadOnlySpan<byte> plainHeader = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        ReadOnlySpan<byte> oneBuffer = [1, 0];
        while (true)
        {
            var frame = _backend.PeekFrame();
            if (frame.IsEmpty)
            {
                break;
            }

            if (!queue.TryPop(out var chain))
            {
                break; // the frame waits in the backend for the guest's next receive buffers
            }

            ulong length = (ulong)frame.Length + (withHeader ? 0UL : HeaderSize);
            uint written = 0;
            if (length <= chain.WritableLength && (!withHeader || frame.Length >= HeaderSize))
            {
                if (withHeader)
                {
                    written = (uint)chain.Write(0, frame);
                    chain.Write(10, oneBuffer); // num_buffers: without MRG_RXBUF a frame always fills exactly one chain
                }
                else
                {
                    written = (uint)chain.Write(0, plainHeader);
                    written += (uint)chain.Write(HeaderSize, frame);
                }

                Interlocked.Increment(ref _counters.RxFrames);
                Interlocked.Add(ref _counters.RxBytes, (long)length - HeaderSize);
            }
            else
            {
                Interlocked.Increment(ref _counters.Dropped);
            }

            _backend.ConsumeFrame();
            queue.AddUsed(chain.Head, written);
            added = true;
        }

        if (added)
        {
            SignalUsed(queue);
        }
    }

    private struct Counters
    {
        public long RxFrames;
        public long RxBytes;
        public long TxFrames;
        public long TxBytes;
        public long Dropped;
        public long TxStalls;
    }
}
