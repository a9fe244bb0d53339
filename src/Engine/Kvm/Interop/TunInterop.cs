using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm.Interop;

/// <summary>The TUN/TAP driver's ioctls and flags (include/uapi/linux/if_tun.h).</summary>
internal static class TunIoctls
{
    public static readonly nuint SetInterface = Ioctl.IoW<int>('T', 202);       // TUNSETIFF
    public static readonly nuint GetFeatures = Ioctl.IoR<uint>('T', 207);       // TUNGETFEATURES
    public static readonly nuint SetOffload = Ioctl.IoW<uint>('T', 208);        // TUNSETOFFLOAD
    public static readonly nuint SetVnetHeaderSize = Ioctl.IoW<int>('T', 216);  // TUNSETVNETHDRSZ

    public const short IffTap = 0x0002;
    public const short IffNoPi = 0x1000;
    public const short IffVnetHdr = 0x4000;

    public const uint OffloadCsum = 0x01;    // TUN_F_CSUM: the TAP may hand us frames with partial checksums
    public const uint OffloadTso4 = 0x02;
    public const uint OffloadTso6 = 0x04;
    public const uint OffloadTsoEcn = 0x08;
}

/// <summary><c>struct ifreq</c> as TUNSETIFF reads it: the interface name, then the flags (a 24-byte union).</summary>
[StructLayout(LayoutKind.Sequential, Size = 40)]
internal struct IfReq
{
    public const int NameSize = 16;

    public InterfaceName Name;
    public short Flags;
}

[InlineArray(IfReq.NameSize)]
internal struct InterfaceName
{
    private byte _element;
}

/// <summary><c>struct ifreq</c> with its union read as the netdevice ioctls use it: flags, an index, or a hardware address.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct IfReqAddress
{
    [FieldOffset(0)] public InterfaceName Name;
    [FieldOffset(16)] public short Flags;
    [FieldOffset(16)] public int Index;
    [FieldOffset(16)] public ushort AddressFamily;
    [FieldOffset(18)] public HardwareAddressData AddressData;
}

/// <summary><c>sa_data</c> of the <c>struct sockaddr</c> in an ifreq: the MAC in its first six bytes.</summary>
[InlineArray(14)]
internal struct HardwareAddressData
{
    private byte _element;
}
