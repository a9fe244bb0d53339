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
/// <para>A received frame waits in the device while the guest has no receive buffers; the device stops reading the
/// backend until the guest posts some (and notifies), which is the back-pressure the backend sees.</para>
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

    private readonly INetBackend _backend;
    private readonly byte[] _mac;
    private readonly byte[] _receiveFrame = new byte[HeaderSize + MaxFrameSize];
    private readonly byte[] _transmitFrame = new byte[HeaderSize + MaxFrameSize];
    private int _pendingReceiveLength;
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
        backend.SetReceiveNotifier(() => Wake(ReceiveWakeBit));
    }

    public override ulong DeviceFeatures => FeatureMac | FeatureStatus | (_backend.SupportedOffloads & OffloadFeatures);

    public override int ConfigSize => ConfigLength;

    public PhysicalAddress Mac => new(_mac);

    public bool LinkUp => _linkUp;

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
        _pendingReceiveLength = 0;
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
        if (bit == ReceiveWakeBit && Activation?.Queues[ReceiveQueue] is { } queue)
        {
            ReceiveInto(queue);
        }
    }

    private void Transmit(VirtQueue queue)
    {
        bool added = false;
        int skip = _backend.HasVirtioHeader ? 0 : HeaderSize;
        while (queue.TryPop(out var chain))
        {
            ulong length = chain.ReadableLength;
            if (length < HeaderSize || length > (ulong)_transmitFrame.Length)
            {
                Interlocked.Increment(ref _counters.Dropped);
            }
            else
            {
                var frame = _transmitFrame.AsSpan(0, (int)length);
                chain.Read(0, frame);
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
        int offset = _backend.HasVirtioHeader ? 0 : HeaderSize;
        while (true)
        {
            if (_pendingReceiveLength == 0)
            {
                int received = _backend.Receive(_receiveFrame.AsSpan(offset));
                if (received == 0)
                {
                    break;
                }

                if (offset != 0)
                {
                    _receiveFrame.AsSpan(0, HeaderSize).Clear(); // no offload information: "no checksum needed", no GSO
                }

                _pendingReceiveLength = offset + received;
            }

            if (!queue.TryPop(out var chain))
            {
                break; // the frame waits for the guest's next receive buffers
            }

            var frame = _receiveFrame.AsSpan(0, _pendingReceiveLength);
            _pendingReceiveLength = 0;
            uint written = 0;
            if ((ulong)frame.Length <= chain.WritableLength)
            {
                // num_buffers is 1: without MRG_RXBUF a frame always fills exactly one chain.
                BinaryPrimitives.WriteUInt16LittleEndian(frame[10..], 1);
                written = (uint)chain.Write(0, frame);
                Interlocked.Increment(ref _counters.RxFrames);
                Interlocked.Add(ref _counters.RxBytes, frame.Length - HeaderSize);
            }
            else
            {
                Interlocked.Increment(ref _counters.Dropped);
            }

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
    }
}
