using Platform.Devices.Virtio.Net;
using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Net;

/// <summary>
/// A host TAP device as virtio-net's backend: <c>/dev/net/tun</c> attached with TUNSETIFF (IFF_TAP | IFF_NO_PI |
/// IFF_VNET_HDR), a 12-byte <c>virtio_net_hdr_v1</c> on every frame (TUNSETVNETHDRSZ), so the guest's checksum and
/// segmentation offloads pass through untouched, and TUNSETOFFLOAD set from the negotiated GUEST_* bits.
/// </summary>
/// <remarks>
/// The descriptor is non-blocking: <see cref="Receive"/> returns 0 when nothing waits and <see cref="Send"/> drops a
/// frame the TAP's queue cannot take (the device counts it). The machine's event loop watches <see cref="Fd"/> and
/// calls <see cref="OnReadable"/>, which wakes the device's worker; reads and writes happen on that worker only.
/// The TAP itself is the host's business: create it beforehand (<c>ip tuntap add NAME mode tap</c>, which also lets
/// an unprivileged user attach with <c>user</c>) or run with CAP_NET_ADMIN, which creates it on the fly.
/// </remarks>
public sealed unsafe class TapBackend : INetBackend
{
    private const string TunDevice = "/dev/net/tun";
    private const int VnetHeaderSize = VirtioNet.HeaderSize;

    /// <summary>What the TAP accepts from the guest (HOST_*), plus what it can hand the guest once TUNSETOFFLOAD allows it.</summary>
    private const ulong GuestBoundOffloads = VirtioNet.FeatureGuestCsum | VirtioNet.FeatureGuestTso4 | VirtioNet.FeatureGuestTso6 |
        VirtioNet.FeatureGuestEcn;
    private const ulong HostBoundOffloads = VirtioNet.FeatureCsum | VirtioNet.FeatureHostTso4 | VirtioNet.FeatureHostTso6 |
        VirtioNet.FeatureHostEcn;

    private readonly FileDescriptorHandle _fd;
    private Action? _frameAvailable;
    private long _sendFailures;
    private long _receiveFailures;

    private TapBackend(FileDescriptorHandle fd, string name, ulong supportedOffloads)
    {
        _fd = fd;
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

    internal int Fd => _fd.Fd;

    /// <summary>Attaches to (or, with CAP_NET_ADMIN, creates) TAP <paramref name="name"/>; throws <see cref="IOException"/> saying what to do.</summary>
    public static TapBackend Open(string name)
    {
        if (!NicOptions.IsValidTapName(name))
        {
            throw new IOException($"'{name}' is not a network interface name.");
        }

        int fd = LibcNative.Open(TunDevice, OpenFlags.ReadWrite | OpenFlags.NonBlock | OpenFlags.CloseOnExec);
        if (fd < 0)
        {
            int errno = LibcNative.LastError;
            throw new IOException(errno == LibcNative.ENOENT
                ? $"{TunDevice} is missing: load the tun module (modprobe tun) or give the container the device."
                : $"Cannot open {TunDevice}: errno {errno}. The user needs read/write access to it.");
        }

        var handle = new FileDescriptorHandle(fd);
        try
        {
            var request = new IfReq { Flags = TunIoctls.IffTap | TunIoctls.IffNoPi | TunIoctls.IffVnetHdr };
            Span<byte> nameBytes = request.Name;
            System.Text.Encoding.ASCII.GetBytes(name, nameBytes);
            // SAFETY: pointers to locals for each call's duration.
            if (LibcNative.Ioctl(fd, TunIoctls.SetInterface, &request) < 0)
            {
                int errno = LibcNative.LastError;
                throw new IOException(errno switch
                {
                    LibcNative.EPERM or LibcNative.EACCES =>
                        $"Not allowed to attach to TAP {name}: create it for this user first (ip tuntap add {name} mode tap user $USER vnet_hdr) or run with CAP_NET_ADMIN.",
                    LibcNative.EBUSY => $"TAP {name} is in use by another process.",
                    LibcNative.EINVAL => $"{name} exists but is not a TAP device with these flags (a TUN device, or multi_queue): pick another name.",
                    _ => $"TUNSETIFF {name} failed: errno {errno}.",
                });
            }

            int headerSize = VnetHeaderSize;
            if (LibcNative.Ioctl(fd, TunIoctls.SetVnetHeaderSize, &headerSize) < 0)
            {
                throw new IOException($"TUNSETVNETHDRSZ {VnetHeaderSize} on TAP {name} failed: errno {LibcNative.LastError}.");
            }

            // Probe whether the TAP may hand us checksum-offloaded and segmented frames, then turn that off until
            // the guest says it can take them.
            uint all = TunIoctls.OffloadCsum | TunIoctls.OffloadTso4 | TunIoctls.OffloadTso6 | TunIoctls.OffloadTsoEcn;
            bool guestOffloads = LibcNative.Ioctl(fd, TunIoctls.SetOffload, (nint)all) == 0;
            LibcNative.Ioctl(fd, TunIoctls.SetOffload, 0);
            return new TapBackend(handle, name, HostBoundOffloads | (guestOffloads ? GuestBoundOffloads : 0));
        }
        catch
        {
            handle.Dispose();
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

    public void EnableOffloads(ulong negotiatedOffloads) =>
        LibcNative.Ioctl(_fd.Fd, TunIoctls.SetOffload, (nint)TunOffloadFlags(negotiatedOffloads));

    public void SetReceiveNotifier(Action frameAvailable) => _frameAvailable = frameAvailable;

    /// <summary>The event loop saw the TAP become readable.</summary>
    internal void OnReadable() => _frameAvailable?.Invoke();

    public bool Send(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
        {
            // SAFETY: the span is pinned for the call; write reads frame.Length bytes from it.
            nint written = LibcNative.Write(_fd.Fd, p, (nuint)frame.Length);
            if (written == frame.Length)
            {
                return true;
            }
        }

        Interlocked.Increment(ref _sendFailures);
        return false;
    }

    public int Receive(Span<byte> buffer)
    {
        while (true)
        {
            nint read;
            fixed (byte* p = buffer)
            {
                // SAFETY: the span is pinned for the call; read writes at most buffer.Length bytes.
                read = LibcNative.Read(_fd.Fd, p, (nuint)buffer.Length);
            }

            if (read >= 0)
            {
                return (int)read;
            }

            int errno = LibcNative.LastError;
            if (errno == LibcNative.EINTR)
            {
                continue;
            }

            if (errno != LibcNative.EAGAIN)
            {
                Interlocked.Increment(ref _receiveFailures);
            }

            return 0;
        }
    }

    public void Dispose() => _fd.Dispose();
}
