using Platform.Devices.Virtio.Block;
using Platform.Engine.Storage;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Storage;

public sealed class DiskImageFilesTests : IDisposable
{
    private const int ODirect = 0x4000;
    private const int OSync = 0x101000;

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"direct-{Guid.NewGuid():N}.img");

    public DiskImageFilesTests()
    {
        using var file = File.Create(_path);
        file.SetLength(1 << 20);
    }

    public void Dispose() => File.Delete(_path);

    /// <summary>Whether the temporary folder's file system takes O_DIRECT, asked of the kernel, not of the product.</summary>
    private static readonly bool FileSystemHasDirectIo = FileSystemProbe.SupportsDirectIo(Path.GetTempPath());

    [Fact]
    public void Cache_none_opens_the_image_with_O_DIRECT_and_aligned_IO_round_trips()
    {
        using var disk = DiskImageFiles.Open(new DiskOptions(_path, Cache: DiskCacheMode.None), out bool direct);

        direct.Should().Be(FileSystemHasDirectIo, "cache=none uses O_DIRECT exactly where the file system takes it");
        ExpectDirect(_path, FileSystemHasDirectIo);
        byte[] aligned = GC.AllocateArray<byte>(8192, pinned: true);
        int start = (int)((4096 - (System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(aligned, 0) % 4096)) % 4096);
        var buffer = aligned.AsSpan(start, 4096);
        buffer.Fill(0xA5);
        disk.Write(8192, buffer).Should().BeTrue(disk.LastError);
        disk.Flush().Should().BeTrue();
        buffer.Clear();
        disk.Read(8192, buffer).Should().BeTrue(disk.LastError);
        buffer.ToArray().Should().OnlyContain(b => b == 0xA5);
    }

    [Fact]
    public void Cache_none_opens_a_qcow2_image_with_O_DIRECT_and_keeps_its_metadata_aligned()
    {
        string image = _path + ".qcow2";
        Platform.Devices.Virtio.Block.Qcow2.Qcow2Creator.Create(image, 4 << 20, clusterBits: 12);
        try
        {
            byte[] aligned = GC.AllocateArray<byte>(3 * 4096, pinned: true);
            int start = (int)((4096 - (System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(aligned, 0) % 4096)) % 4096);
            var buffer = aligned.AsMemory(start, 2 * 4096);
            using (var disk = DiskImageFiles.Open(new DiskOptions(image, Cache: DiskCacheMode.None), out bool direct))
            {
                direct.Should().Be(FileSystemHasDirectIo, "cache=none uses O_DIRECT exactly where the file system takes it");
                ExpectDirect(image, FileSystemHasDirectIo);
                if (direct)
                {
                    disk.RequiredAlignment.Should().Be(512);
                }

                buffer.Span.Fill(0x3C);
                // A write that starts mid-cluster: new clusters, a copy of the zeros before it, refcounts, L2 and L1 entries.
                disk.Write(1024 + (2 << 20), buffer.Span).Should().BeTrue(disk.LastError);
                disk.Flush().Should().BeTrue();
                buffer.Span.Clear();
                disk.Read(1024 + (2 << 20), buffer.Span).Should().BeTrue(disk.LastError);
                buffer.ToArray().Should().OnlyContain(b => b == 0x3C);
            }

            QemuImg.Check(image).ExitCode.Should().Be(0);
            byte[] contents = QemuImg.ContentsAsRaw(image);
            contents.AsSpan(1024 + (2 << 20), 8192).ToArray().Should().OnlyContain(b => b == 0x3C);
            contents.AsSpan((2 << 20) + 1024 + 8192, 4096).ToArray().Should().OnlyContain(b => b == 0);
        }
        finally
        {
            File.Delete(image);
        }
    }

    [Theory]
    [InlineData(DiskCacheMode.None)]
    [InlineData(DiskCacheMode.Writeback)]
    public void A_writable_image_is_locked_against_a_second_VMM(DiskCacheMode cache)
    {
        using var first = DiskImageFiles.Open(new DiskOptions(_path, Cache: cache));

        var second = () => DiskImageFiles.Open(new DiskOptions(_path, Cache: DiskCacheMode.None));
        second.Should().Throw<IOException>().WithMessage("*another VM*");
        var third = () => DiskImageFiles.Open(new DiskOptions(_path));
        third.Should().Throw<IOException>();
    }

    [Fact]
    public void Writeback_and_read_only_images_do_not_use_O_DIRECT()
    {
        using (DiskImageFiles.Open(new DiskOptions(_path), out bool direct))
        {
            direct.Should().BeFalse();
        }

        using (DiskImageFiles.Open(new DiskOptions(_path, ReadOnly: true, Cache: DiskCacheMode.None), out bool direct))
        {
            direct.Should().BeFalse();
        }
    }

    [Fact]
    public void A_missing_image_is_named()
    {
        var open = () => DiskImageFiles.Open(new DiskOptions(_path + ".missing", Cache: DiskCacheMode.None));
        open.Should().Throw<FileNotFoundException>().WithMessage("*does not exist*");
    }

    /// <summary>The image's descriptor has O_DIRECT, or else O_SYNC: the write-through that keeps cache=none's promise.</summary>
    private static void ExpectDirect(string path, bool direct)
    {
        var flags = OpenFlagsOf(path);
        if (direct)
        {
            flags.Should().HaveFlag((OpenFlagBits)ODirect);
        }
        else
        {
            flags.Should().NotHaveFlag((OpenFlagBits)ODirect).And.HaveFlag((OpenFlagBits)OSync);
        }
    }

    [Flags]
    private enum OpenFlagBits
    {
        None = 0,
    }

    /// <summary>The flags of this process's open descriptor for <paramref name="path"/>, from /proc/self/fdinfo.</summary>
    private static OpenFlagBits OpenFlagsOf(string path)
    {
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target = null;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
            }

            if (target == path)
            {
                string flags = File.ReadAllLines($"/proc/self/fdinfo/{Path.GetFileName(fd)}").Single(l => l.StartsWith("flags:", StringComparison.Ordinal));
                return (OpenFlagBits)Convert.ToInt32(flags["flags:".Length..].Trim(), 8);
            }
        }

        throw new InvalidOperationException($"{path} is not open");
    }
}
