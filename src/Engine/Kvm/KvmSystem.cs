using System.Runtime.InteropServices;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Kvm;

/// <summary>
/// <c>/dev/kvm</c>: the API version check, capability queries, the host's supported CPUID, and VM creation.
/// </summary>
public sealed class KvmSystem : IDisposable
{
    public const string DevicePath = "/dev/kvm";
    private const int ExpectedApiVersion = 12;

    private readonly FileDescriptorHandle _fd;
    private KvmCpuidEntry2[]? _supportedCpuid;

    private KvmSystem(FileDescriptorHandle fd) => _fd = fd;

    /// <summary>Opens <c>/dev/kvm</c> and checks the API version; fails with advice a user can act on.</summary>
    public static KvmSystem Open(string path = DevicePath)
    {
        var fd = LibcNative.Open(path, OpenFlags.ReadWrite | OpenFlags.CloseOnExec);
        if (fd.IsInvalid)
        {
            int errno = LibcNative.LastError;
            fd.Dispose();
            string advice = errno switch
            {
                LibcNative.ENOENT => $"{path} is missing: is the kvm module loaded (kvm_intel, kvm_amd or kvm_pvm), or does the container lack --device /dev/kvm?",
                LibcNative.EACCES or LibcNative.EPERM => $"No permission on {path}: add the user to the kvm group or run with access to it.",
                _ => $"Check that {path} is a KVM device.",
            };
            throw new KvmException($"open {path}", errno, advice);
        }

        var system = new KvmSystem(fd);
        int version = system.IoctlValue(KvmIoctls.GetApiVersion, 0, "KVM_GET_API_VERSION");
        if (version != ExpectedApiVersion)
        {
            system.Dispose();
            throw new KvmException($"KVM API version {version} is not the stable version {ExpectedApiVersion} this VMM speaks.");
        }

        return system;
    }

    /// <summary>What KVM this host runs: hardware (VMX/SVM) or the PVM module, read from /sys/module.</summary>
    public static KvmKind DetectKind() => HostKvm.DetectKind();

    /// <summary>KVM_CHECK_EXTENSION: 0 when absent, else a capability-specific positive value.</summary>
    public int CheckExtension(KvmCapability capability) =>
        Math.Max(0, LibcNative.Ioctl(_fd, KvmIoctls.CheckExtension, (nint)capability));

    /// <summary>Fails unless every capability the machine relies on is present.</summary>
    public void RequireCapabilities(params KvmCapability[] capabilities)
    {
        var missing = capabilities.Where(c => CheckExtension(c) == 0).ToArray();
        if (missing.Length > 0)
        {
            throw new KvmException(
                $"This KVM lacks {string.Join(", ", missing.Select(c => "KVM_CAP_" + c))}; a newer kernel is needed.");
        }
    }

    public int VcpuMmapSize => IoctlValue(KvmIoctls.GetVcpuMmapSize, 0, "KVM_GET_VCPU_MMAP_SIZE");

    /// <summary>KVM_GET_SUPPORTED_CPUID, growing the buffer until the kernel's list fits.</summary>
    /// <summary>
    /// KVM_GET_SUPPORTED_CPUID, asked once per <see cref="KvmSystem"/> and copied to each caller (who may edit the
    /// entries). Each call makes the kernel run CPUID for every leaf, which traps to the hypervisor below a nested or
    /// PVM host: about 0.4 ms here, twice per firmware boot before this was kept.
    /// </summary>
    internal KvmCpuidEntry2[] GetSupportedCpuid() => (_supportedCpuid ??= QuerySupportedCpuid()).ToArray();

    private unsafe KvmCpuidEntry2[] QuerySupportedCpuid()
    {
        // KVM_MAX_CPUID_ENTRIES (256) first: a smaller buffer is refused with E2BIG only after the kernel has walked
        // the leaves, so every retry costs a whole walk.
        for (int capacity = 256; capacity <= 4096; capacity *= 2)
        {
            int size = sizeof(KvmCpuid2Header) + capacity * sizeof(KvmCpuidEntry2);
            byte* buffer = (byte*)NativeMemory.AllocZeroed((nuint)size);
            try
            {
                // SAFETY: buffer holds the header and `capacity` entries, as Nent tells the kernel; it is freed below,
                // after the call, and the entries copied out are bounded by the Nent the kernel wrote back (<= capacity).
                ((KvmCpuid2Header*)buffer)->Nent = (uint)capacity;
                if (LibcNative.Ioctl(_fd, KvmIoctls.GetSupportedCpuid, buffer) < 0)
                {
                    int errno = LibcNative.LastError;
                    if (errno == 7 /* E2BIG */) continue;
                    throw new KvmException("KVM_GET_SUPPORTED_CPUID", errno);
                }

                int count = (int)((KvmCpuid2Header*)buffer)->Nent;
                return new ReadOnlySpan<KvmCpuidEntry2>(buffer + sizeof(KvmCpuid2Header), count).ToArray();
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }

        throw new KvmException("KVM_GET_SUPPORTED_CPUID returned more than 4096 entries.");
    }

    /// <summary>KVM_CREATE_VM.</summary>
    public KvmVm CreateVm()
    {
        int fd = LibcNative.Ioctl(_fd, KvmIoctls.CreateVm, 0);
        if (fd < 0)
        {
            throw new KvmException("KVM_CREATE_VM", LibcNative.LastError, "The host may be out of memory or VM slots.");
        }

        return new KvmVm(new FileDescriptorHandle(fd), this);
    }

    public void Dispose() => _fd.Dispose();

    private int IoctlValue(nuint request, nint arg, string name)
    {
        int result = LibcNative.Ioctl(_fd, request, arg);
        return result < 0 ? throw new KvmException(name, LibcNative.LastError) : result;
    }
}
