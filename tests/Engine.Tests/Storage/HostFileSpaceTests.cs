using Platform.Devices.Virtio.Block;
using Platform.Engine.Storage;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Storage;

public sealed class HostFileSpaceTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"holes-{Guid.NewGuid():N}.img");

    public HostFileSpaceTests() => File.WriteAllBytes(_path, Enumerable.Repeat((byte)0xEE, 1 << 20).ToArray());

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Discard_punches_a_hole_that_reads_as_zeros_and_keeps_the_size()
    {
        // Asked of the kernel, not of the product: a discard that stopped working must fail here, not skip.
        bool canPunch = FileSystemProbe.CanPunchHoles(Path.GetTempPath());
        using (var disk = RawFileBlockBackend.Open(new DiskOptions(_path), HostFileSpace.Instance))
        {
            disk.SupportsDiscard.Should().BeTrue();
            disk.Discard(128 * 1024, 64 * 1024).Should().Be(canPunch, disk.LastError);
            if (!canPunch)
            {
                disk.LastError.Should().Contain("fallocate could not punch a hole");
            }

            // Write-zeroes works either way: in place where the file system can, by writing zeros where it cannot.
            disk.WriteZeroes(512 * 1024, 4096, mayUnmap: false).Should().BeTrue();
        }

        byte[] image = File.ReadAllBytes(_path);
        image.Length.Should().Be(1 << 20);
        image.AsSpan(128 * 1024, 64 * 1024).ToArray().Should().OnlyContain(b => b == (canPunch ? 0 : 0xEE), "a hole reads as zeros");
        image.AsSpan(512 * 1024, 4096).ToArray().Should().OnlyContain(b => b == 0);
        image[(128 * 1024) - 1].Should().Be(0xEE);
        image[192 * 1024].Should().Be(0xEE);
    }
}
