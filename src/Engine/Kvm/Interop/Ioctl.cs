using System.Runtime.CompilerServices;

namespace Platform.Engine.Kvm.Interop;

/// <summary>Linux's <c>_IO/_IOR/_IOW/_IOWR</c> encodings (asm-generic/ioctl.h), for KVM's type 0xAE unless another is given.</summary>
internal static class Ioctl
{
    private const uint KvmType = 0xAE;
    private const int NrShift = 0, TypeShift = 8, SizeShift = 16, DirShift = 30;
    private const uint DirNone = 0, DirWrite = 1, DirRead = 2;

    public static nuint Io(uint nr) => Encode(DirNone, nr, 0);

    public static nuint IoR<T>(uint nr) where T : unmanaged => Encode(DirRead, nr, (uint)Unsafe.SizeOf<T>());

    public static nuint IoW<T>(uint nr) where T : unmanaged => Encode(DirWrite, nr, (uint)Unsafe.SizeOf<T>());

    public static nuint IoWR<T>(uint nr) where T : unmanaged => Encode(DirRead | DirWrite, nr, (uint)Unsafe.SizeOf<T>());

    /// <summary><c>_IOR(type, nr, T)</c> for another driver's ioctls (TUN's type is 'T').</summary>
    public static nuint IoR<T>(char type, uint nr) where T : unmanaged => Encode(DirRead, nr, (uint)Unsafe.SizeOf<T>(), type);

    /// <summary><c>_IOW(type, nr, T)</c> for another driver's ioctls.</summary>
    public static nuint IoW<T>(char type, uint nr) where T : unmanaged => Encode(DirWrite, nr, (uint)Unsafe.SizeOf<T>(), type);

    private static nuint Encode(uint dir, uint nr, uint size, uint type = KvmType) =>
        (nuint)(dir << DirShift | size << SizeShift | type << TypeShift | nr << NrShift);
}
