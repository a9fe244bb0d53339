using System.Net.NetworkInformation;
using Platform.Devices.Virtio.Net;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Net;

/// <summary>
/// A host TAP device as virtio-net's backend: <c>/dev/net/tun</c> attached with TUNSETIFF (IFF_TAP | IFF_NO_PI |
/// IFF_VNET_HDR), a 12-byte <c>virtio_net_hdr_v1</c> on every frame (TUNSETVNETHDRSZ), so the guest's checksum and
/// segmentation offloads pass through untouched, and TUNSETOFFLOAD set from the negotiated GUEST_* bits.
/// </summary>
/// <remarks>
/// The descriptor is non-blocking: <see cref="PeekFrame"/> is empty when nothing waits and <see cref="Send"/> drops a
/// frame the TAP's queue cannot take (the device counts it), as a NIC on a full link would. The machine's event loop watches <see cref="Handle"/> and
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
    private readonly byte[] _frame = new byte[VnetHeaderSize + VlanTag.Size + VirtioNet.MaxFrameSize];
    private int _frameStart, _frameLength;
    private int? _vlan;
    private byte[]? _tagged;
    private long _foreignFrames;
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

    /// <summary>With a VLAN: frames dropped for carrying another VLAN's tag or none, both ways.</summary>
    public long ForeignVlanFrames => Interlocked.Read(ref _foreignFrames);

    /// <summary>Reads that failed with something other than "nothing to read".</summary>
    public long ReceiveFailures => Interlocked.Read(ref _receiveFailures);

    /// <summary>The TAP's descriptor, for the event loop.</summary>
    internal FileDescriptorHandle Handle => _tap.Handle;

    /// <summary>Attaches to (or, with CAP_NET_ADMIN, creates) TAP <paramref name="name"/>; throws <see cref="IOException"/> saying what to do.</summary>
    public static TapBackend Open(string name) => Open(name, checkName: true);

    private static TapBackend Open(string name, bool checkName)
    {
        if (checkName && !NicOptions.IsValidTapName(name))
        {
            throw new IOException($"'{name}' is not a network interface name.");
        }

        var tap = TapDevice.Open(name, TunIoctls.IffTap | TunIoctls.IffNoPi | TunIoctls.IffVnetHdr, VnetHeaderSize);
        // Probe whether the TAP may hand us checksum-offloaded and segmented frames, then turn that off until the
        // guest says it can take them.
        uint all = TunIoctls.OffloadCsum | TunIoctls.OffloadTso4 | TunIoctls.OffloadTso6 | TunIoctls.OffloadTsoEcn;
        bool guestOffloads = tap.TrySetOffload(all);
        tap.TrySetOffload(0);
        return new TapBackend(tap, tap.Name, HostBoundOffloads | (guestOffloads ? GuestBoundOffloads : 0));
    }

    /// <summary>
    /// A new TAP (the kernel names it ptapN) joined to host bridge <paramref name="bridge"/> and up, for a NIC with
    /// <paramref name="guestMac"/>. It is not persistent, so it disappears when the VMM ends, however it ends. Its own
    /// MAC is the guest's with the first byte FE (libvirt's choice): a bridge takes its lowest port address as its
    /// own, and FE is never lower than a guest's. With <paramref name="vlan"/> the guest is on that VLAN only: its frames
    /// leave tagged and only frames with that tag reach it (<see cref="VlanTag"/>). Needs CAP_NET_ADMIN; throws
    /// <see cref="IOException"/> saying why not.
    /// </summary>
    public static TapBackend CreateOnBridge(string bridge, PhysicalAddress guestMac, int? vlan = null)
    {
        ArgumentNullException.ThrowIfNull(guestMac);
        if (HostInterfaces.IndexOf(bridge) is null)
        {
            throw new IOException($"There is no host bridge {bridge} (ip link add {bridge} type bridge creates one).");
        }

        var backend = Open("ptap%d", checkName: false);
        try
        {
            byte[] mac = guestMac.GetAddressBytes();
            mac[0] = 0xFE;
            HostInterfaces.SetAddress(backend.Name, mac);
            HostInterfaces.JoinBridge(bridge, backend.Name);
            HostInterfaces.SetUp(backend.Name);
            backend._vlan = vlan;
            return backend;
        }
        catch
        {
            backend.Dispose();
            throw;
        }
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

    public void SetNotifiers(Action frameAvailable, Action sendReady) => _frameAvailable = frameAvailable;

    public bool CanSend => true;

    /// <summary>The event loop saw the TAP become readable.</summary>
    internal void OnReadable() => _frameAvailable?.Invoke();

    public bool Send(ReadOnlySpan<byte> frame)
    {
        if (_vlan is { } vlan)
        {
            _tagged ??= new byte[_frame.Length];
            int length = VlanTag.Insert(frame, _tagged, VnetHeaderSize, vlan);
            if (length == 0)
            {
                Interlocked.Increment(ref _foreignFrames);
                return false;
            }

            frame = _tagged.AsSpan(0, length);
        }

        if (_tap.Write(frame) == frame.Length)
        {
            return true;
        }

        Interlocked.Increment(ref _sendFailures);
        return false;
    }

    public ReadOnlySpan<byte> PeekFrame()
    {
        while (_frameLength == 0)
        {
            int read = _tap.Read(_frame);
            if (read > 0 && _vlan is { } vlan)
            {
                _frameStart = VlanTag.Strip(_frame.AsSpan(0, read), VnetHeaderSize, vlan);
                if (_frameStart < 0)
                {
                    Interlocked.Increment(ref _foreignFrames); // not this VLAN's: read the next one
                    continue;
                }

                _frameLength = read - _frameStart;
            }
            else if (read > 0)
            {
                _frameStart = 0;
                _frameLength = read;
            }
            else if (read == -LibcNative.EINTR)
            {
                continue;
            }
            else
            {
                if (read != -LibcNative.EAGAIN && read != 0)
                {
                    Interlocked.Increment(ref _receiveFailures);
                }

                return default;
            }
        }

        return _frame.AsSpan(_frameStart, _frameLength);
    }

    public void ConsumeFrame() => _frameLength = 0;

    public void Dispose() => _tap.Dispose();
}
