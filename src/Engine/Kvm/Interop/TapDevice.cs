namespace Platform.Engine.Kvm.Interop;

/// <summary>
/// A TAP interface opened through <c>/dev/net/tun</c> (crosvm's <c>net_util::Tap</c>): TUNSETIFF, the vnet header
/// size and offload ioctls, and non-blocking frame reads and writes. Owns the descriptor; every call holds it.
/// </summary>
internal sealed class TapDevice : IDisposable
{
    private const string TunDevice = "/dev/net/tun";

    private readonly FileDescriptorHandle _fd;

    /// <summary>Takes over <paramref name="fd"/>, an open TAP (or, in tests, any non-blocking descriptor).</summary>
    internal TapDevice(FileDescriptorHandle fd) => _fd = fd;

    /// <summary>The descriptor, for the event loop's epoll set.</summary>
    public FileDescriptorHandle Handle => _fd;

    /// <summary>
    /// Attaches to (or, with CAP_NET_ADMIN, creates) TAP <paramref name="name"/>, non-blocking, with
    /// <paramref name="flags"/> (IFF_TAP | …) and a <paramref name="vnetHeaderSize"/>-byte virtio-net header on each
    /// frame; throws <see cref="IOException"/> saying what to do.
    /// </summary>
    public static TapDevice Open(string name, short flags, int vnetHeaderSize)
    {
        var fd = LibcNative.Open(TunDevice, OpenFlags.ReadWrite | OpenFlags.NonBlock | OpenFlags.CloseOnExec);
        if (fd.IsInvalid)
        {
            int errno = LibcNative.LastError;
            fd.Dispose();
            throw new IOException(errno == LibcNative.ENOENT
                ? $"{TunDevice} is missing: load the tun module (modprobe tun) or give the container the device."
                : $"Cannot open {TunDevice}: errno {errno}. The user needs read/write access to it.");
        }

        var tap = new TapDevice(fd);
        try
        {
            tap.SetInterface(name, flags);
            if (!tap.TrySetVnetHeaderSize(vnetHeaderSize, out int errno))
            {
                throw new IOException($"TUNSETVNETHDRSZ {vnetHeaderSize} on TAP {name} failed: errno {errno}.");
            }

            return tap;
        }
        catch
        {
            tap.Dispose();
            throw;
        }
    }

    /// <summary>TUNSETOFFLOAD: which TUN_F_* offloads the TAP may hand us. False when the kernel refused them.</summary>
    public bool TrySetOffload(uint tunOffloads) => LibcNative.Ioctl(_fd, TunIoctls.SetOffload, (nint)tunOffloads) == 0;

    /// <summary>Writes one frame; the bytes written, or the negated errno (a full queue, an interface that is down).</summary>
    public unsafe int Write(ReadOnlySpan<byte> frame)
    {
        nint written;
        fixed (byte* p = frame)
        {
            // SAFETY: the span is pinned for the call; write reads at most frame.Length bytes from it.
            written = LibcNative.Write(_fd, p, (nuint)frame.Length);
        }

        return written >= 0 ? (int)written : -LibcNative.LastError;
    }

    /// <summary>Reads one frame into <paramref name="buffer"/>; its length, or the negated errno (-EAGAIN when none waits).</summary>
    public unsafe int Read(Span<byte> buffer)
    {
        nint read;
        fixed (byte* p = buffer)
        {
            // SAFETY: the span is pinned for the call; read writes at most buffer.Length bytes to it.
            read = LibcNative.Read(_fd, p, (nuint)buffer.Length);
        }

        return read >= 0 ? (int)read : -LibcNative.LastError;
    }

    public void Dispose() => _fd.Dispose();

    /// <summary>The interface's name: the one asked for, or the kernel's pick for a "ptap%d" pattern.</summary>
    public string Name { get; private set; } = "";

    private unsafe void SetInterface(string name, short flags)
    {
        var request = new IfReq { Flags = flags };
        Span<byte> nameBytes = request.Name;
        if (System.Text.Encoding.ASCII.GetByteCount(name) >= IfReq.NameSize)
        {
            throw new IOException($"'{name}' is longer than an interface name may be ({IfReq.NameSize - 1} bytes).");
        }

        System.Text.Encoding.ASCII.GetBytes(name, nameBytes);
        // SAFETY: pointer to a local struct ifreq (40 bytes, as TUNSETIFF reads it) for the call's duration.
        if (LibcNative.Ioctl(_fd, TunIoctls.SetInterface, &request) < 0)
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

        Name = System.Text.Encoding.ASCII.GetString(((ReadOnlySpan<byte>)request.Name).TrimEnd((byte)0));
    }

    private unsafe bool TrySetVnetHeaderSize(int size, out int errno)
    {
        // SAFETY: pointer to an int local that TUNSETVNETHDRSZ reads during the call.
        errno = LibcNative.Ioctl(_fd, TunIoctls.SetVnetHeaderSize, &size) < 0 ? LibcNative.LastError : 0;
        return errno == 0;
    }
}
