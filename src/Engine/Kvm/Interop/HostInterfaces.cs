using System.Text;

namespace Platform.Engine.Kvm.Interop;

/// <summary>
/// The netdevice ioctls a bridge NIC needs (netdevice(7), include/uapi/linux/sockios.h): an interface's index, its
/// hardware address, bringing it up, and joining it to a bridge (SIOCBRADDIF, what <c>ip link set T master BR</c>
/// does). They go through a throwaway datagram socket, as iproute2's older paths do; all need CAP_NET_ADMIN.
/// </summary>
internal static class HostInterfaces
{
    private const nuint GetFlags = 0x8913, SetFlags = 0x8914, GetIndex = 0x8933, SetHardwareAddress = 0x8924, BridgeAddInterface = 0x89A2;
    private const short IffUp = 0x1;
    private const ushort ArpHardwareEther = 1;
    private const int AfInet = 2, SockDgram = 2;

    /// <summary>The interface's index; null when there is no such interface.</summary>
    public static int? IndexOf(string name)
    {
        using var socket = ControlSocket();
        var request = Request(name);
        return Call(socket, GetIndex, ref request) == 0 ? request.Index : null;
    }

    /// <summary>Gives <paramref name="name"/> the MAC <paramref name="mac"/>.</summary>
    public static void SetAddress(string name, ReadOnlySpan<byte> mac)
    {
        using var socket = ControlSocket();
        var request = Request(name);
        request.AddressFamily = ArpHardwareEther;
        mac.CopyTo(request.AddressData);
        Check(Call(socket, SetHardwareAddress, ref request), $"setting {name}'s MAC address");
    }

    /// <summary>Brings <paramref name="name"/> up.</summary>
    public static void SetUp(string name)
    {
        using var socket = ControlSocket();
        var request = Request(name);
        Check(Call(socket, GetFlags, ref request), $"reading {name}'s flags");
        request.Flags |= IffUp;
        Check(Call(socket, SetFlags, ref request), $"bringing {name} up");
    }

    /// <summary>Makes <paramref name="member"/> a port of bridge <paramref name="bridge"/>; throws <see cref="IOException"/> saying why not.</summary>
    public static void JoinBridge(string bridge, string member)
    {
        int memberIndex = IndexOf(member) ?? throw new IOException($"{member} vanished before it joined {bridge}.");
        using var socket = ControlSocket();
        var request = Request(bridge);
        request.Index = memberIndex;
        if (Call(socket, BridgeAddInterface, ref request) != 0)
        {
            int errno = LibcNative.LastError;
            throw new IOException(errno switch
            {
                LibcNative.ENODEV => $"There is no host bridge {bridge}.",
                LibcNative.EOPNOTSUPP or LibcNative.EINVAL => $"{bridge} is not a bridge.",
                LibcNative.EPERM => $"Not allowed to add {member} to bridge {bridge}: the VMM needs CAP_NET_ADMIN.",
                _ => $"Adding {member} to bridge {bridge} failed: errno {errno}.",
            });
        }
    }

    private static FileDescriptorHandle ControlSocket()
    {
        var socket = LibcNative.Socket(AfInet, SockDgram | LibcNative.SockCloseOnExec, 0);
        if (socket.IsInvalid)
        {
            int errno = LibcNative.LastError;
            socket.Dispose();
            throw new IOException($"Cannot open a socket for interface ioctls: errno {errno}");
        }

        return socket;
    }

    private static IfReqAddress Request(string name)
    {
        var request = default(IfReqAddress);
        if (Encoding.ASCII.GetByteCount(name) >= IfReq.NameSize)
        {
            throw new IOException($"'{name}' is longer than an interface name may be ({IfReq.NameSize - 1} bytes).");
        }

        Encoding.ASCII.GetBytes(name, request.Name);
        return request;
    }

    private static unsafe int Call(FileDescriptorHandle socket, nuint request, ref IfReqAddress data)
    {
        fixed (IfReqAddress* p = &data)
        {
            // SAFETY: p points at a pinned 40-byte struct ifreq for the call's duration.
            return LibcNative.Ioctl(socket, request, p);
        }
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            int errno = LibcNative.LastError;
            throw new IOException(errno == LibcNative.EPERM
                ? $"Not allowed: {what} needs CAP_NET_ADMIN."
                : $"{what} failed: errno {errno}.");
        }
    }
}
