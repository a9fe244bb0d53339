using Platform.Engine.Tests.Kvm.Interop;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>
/// What the file system under a folder can do, asked of the kernel with the test's own calls on a scratch file. The
/// storage tests compare the product's answer with this one, so a regression fails instead of looking like a file
/// system that cannot (which is what a skip on the product's own answer would have made of it).
/// </summary>
internal static class FileSystemProbe
{
    // <fcntl.h>, <linux/falloc.h>, <errno.h>
    private const int ORdWr = 0x2, ODirect = 0x4000;
    private const int FallocKeepSize = 0x1, FallocPunchHole = 0x2;
    private const int EINVAL = 22, EOPNOTSUPP = 95;

    /// <summary>Whether open(2) takes O_DIRECT for a file in <paramref name="folder"/> (EINVAL: it does not).</summary>
    public static bool SupportsDirectIo(string folder) => WithScratchFile(folder, path =>
    {
        int fd = TestNative.OpenFile(path, ORdWr | ODirect);
        if (fd >= 0)
        {
            TestNative.Close(fd);
            return true;
        }

        if (fd == -EINVAL)
        {
            return false;
        }

        throw new IOException($"open(O_DIRECT) of {path} failed with errno {-fd}");
    });

    /// <summary>Whether fallocate(2) punches holes in a file in <paramref name="folder"/> (EOPNOTSUPP: it does not).</summary>
    public static bool CanPunchHoles(string folder) => WithScratchFile(folder, path =>
    {
        int fd = TestNative.OpenFile(path, ORdWr);
        fd.Should().BeGreaterThanOrEqualTo(0, $"opening {path} failed with errno {-fd}");
        try
        {
            int result = TestNative.Fallocate(fd, FallocPunchHole | FallocKeepSize, 0, 4096);
            if (result == 0 || result == -EOPNOTSUPP)
            {
                return result == 0;
            }

            throw new IOException($"fallocate of {path} failed with errno {-result}");
        }
        finally
        {
            TestNative.Close(fd);
        }
    });

    private static bool WithScratchFile(string folder, Func<string, bool> probe)
    {
        string path = Path.Combine(folder, $"probe-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, new byte[16384]);
        try
        {
            return probe(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
