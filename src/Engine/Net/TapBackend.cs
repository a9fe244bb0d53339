using Platform.Devices.Virtio.Net;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Net;

/// <summary>
/// A host TAP device as virtio-net's backend: <c>/dev/net/tun</c> attached with TUNSETIFF (IFF_TAP | IFF_NO_PI |
/// IFF_VNET_HDR), a 12-byte <c>virtio_net_hdr_v1</c> on every frame (TUNSETVNETHDRSZ), so the guest's checksum and
/// segmentation offloads pass through untouched, and TUNSETOFFLOAD set from the negotiated GUEST_* bits.
/// </summary>
/// <remarks>
/// The descriptor is non-blocking: <see cref="Receive"/> returns 0 when nothing waits and <see cref="Send"/> drops a
/// frame the TAP's queue cannot take (the device counts it). The machine's event loop watches <see cref="Handle"/> and
/// calls <see cref="OnReadable"/>, which wakes the device's worker; reads and writes happen on that worker only.
/// The TAP itself is the host's business: create it beforehand (<c>ip tuntap add NAME mode tap</c>, which also lets
/// an unprivileged user attach with <c>user</c>) or run with CAP_NET_ADMIN, which creates it on the fly.
/// </remarks>
public sealed class TapBackend : INetBackend
{
    private const int VnetHeaderSize = VirtioNet.HeaderSize;

    /// <summary>What the TAP accepts from the guest (HOST_*), plus what it can hand the guest once TUNSETOFFLOAD allows it.</summary>
    private const ulong GuestBoundOffloads = VirtioNet.FeatureGuestCsum | VirtioNet.FeatureGuestTso4 | VirtioNet.FeatureGuestTso6 |
        VirtioNet.FeatureGuestEcn;
    private const ulong HostBoundOffloads = VirtioNet.FeatureCsum | VirtioNet.FeatureHostTso4 | VirtioNet.FeatureHostTso6 |
        VirtioNet.FeatureHostEcn;

    private readonly TapDevice _tap;
    private Action? _frameAvailable;
    private long _sendFailures;
    private long _receiveFailures;

    private TapBackend(TapDevice tap, string name, ulong supportedOffloads)
    {
        _tap = tap;
        Name = name;
        SupportedOffloads = supportedOffloads;
    }

    public string Name { get; }

    public bool HasVirtioHeader => true;

    public ulong SupportedOffloads { get; }

    /// <summary>Frames the TAP refused (its queue full, or the interface down).</summary>
    public long SendFailures => Interlocked.Read(ref _sendFailures);

    /// <summary>Reads that failed with something other than "nothing to read".</summary>
    public long ReceiveFailures => Interlocked.Read(ref _receiveFailures);

    /// <summary>The TAP's descriptor, for the event loop.</summary>
    internal FileDescriptorHandle Handle => _tap.Handle;

    /// <summary>Attaches to (or, with CAP_NET_ADMIN, creates) TAP <paramref name="name"/>; throws <see cref="IOException"/> saying what to do.</summary>
    public static TapBackend Open(string name)
    {
        if (!NicOptions.IsValidTapName(name))
        {
            throw new IOException($"'{name}' is not a network interface name.");
        }

        var tap = TapDevice.Open(name, TunIoctls.IffTap | TunIoctls.IffNoPi | TunIoctls.IffVnetHdr, VnetHeaderSize);
        // Probe whether the TAP may hand us checksum-offloaded and segmented frames, then turn that off until the
        // guest says it can take them.
        uint all = TunIoctls.OffloadCsum | TunIoctls.OffloadTso4 | TunIoctls.OffloadTso6 | TunIoctls.OffloadTsoEcn;
        bool guestOffloads = tap.TrySetOffload(all);
        tap.TrySetOffload(0);
        return new TapBackend(tap, name, HostBoundOffloads | (guestOffloads ? GuestBoundOffloads : 0));
    }

    /// <summary>Maps the negotiated GUEST_* bits to TUN_F_* (QEMU's tap_fd_set_offload does the same).</summary>
    public static uint TunOffloadFlags(ulong negotiated)
    {
        if ((negotiated & VirtioNet.FeatureGuestCsum) == 0)
        {
            return 0; // segmentation offloads need checksum offload
        }

        uint flags = TunIoctls.OffloadCsum;
        flags |= (negotiated & VirtioNet.FeatureGuestTso4) != 0 ? TunIoctls.OffloadTso4 : 0;
        flags |= (negotiated & VirtioNet.FeatureGuestTso6) != 0 ? TunIoctls.OffloadTso6 : 0;
        flags |= (negotiated & VirtioNet.FeatureGuestEcn) != 0 ? TunIoctls.OffloadTsoEcn : 0;
        return flags;
    }

    public void EnableOffloads(ulong negotiatedOffloads) => _tap.TrySetOffload(TunOffloadFlags(negotiatedOffloads));

    public void SetReceiveNotifier(Action frameAvailable) => _frameAvailable = frameAvailable;

    /// <summary>The event loop saw the TAP become readable.</summary>
    internal void OnReadable() => _frameAvailable?.Invoke();

    public bool Send(ReadOnlySpan<byte> frame)
    {
        if (_tap.Write(frame) == frame.Length)
        {
            return true;
        }

        Interlocked.Increment(ref _sendFailures);
        return false;
    }

    public int Receive(Span<byte> buffer)
    {
        while (true)
        {
            int read = _tap.Read(buffer);
            if (read >= 0)
            {
                return read;
            }

            if (read == -LibcNative.EINTR)
            {
                continue;
            }

            if (read != -LibcNative.EAGAIN)
            {
                Interlocked.Increment(ref _receiveFailures);
            }

            return 0;
        }
    }

    public void Dispose() => _tap.Dispose();
}
