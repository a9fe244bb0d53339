using System.Runtime.CompilerServices;

namespace Platform.Engine.Kvm.Interop;

/// <summary>Linux's <c>_IO/_IOR/_IOW/_IOWR</c> encodings for the KVM ioctl type 0xAE (asm-generic/ioctl.h).</summary>
internal static class Ioctl
{
    private const uint KvmType = 0xAE;
    private const int NrShift = 0, TypeShift = 8, SizeShift = 16, DirShift = 30;
    private const uint DirNone = 0, DirWrite = 1, DirRead = 2;

    public static nuint Io(uint nr) => Encode(DirNone, nr, 0);

    public static nuint IoR<T>(uint nr) where T : unmanaged => Encode(DirRead, nr, (uint)Unsafe.SizeOf<T>());

    public static nuint IoW<T>(uint nr) where T : unmanaged => Encode(DirWrite, nr, (uint)Unsafe.SizeOf<T>());

    public static nuint IoWR<T>(uint nr) where T : unmanaged => Encode(DirRead | DirWrite, nr, (uint)Unsafe.SizeOf<T>());

    private static nuint Encode(uint dir, uint nr, uint size) =>
        (nuint)(dir << DirShift | size << SizeShift | KvmType << TypeShift | nr << NrShift);
}
