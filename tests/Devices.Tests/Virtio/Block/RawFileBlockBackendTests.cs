using Platform.Devices.Virtio.Block;

namespace Platform.Devices.Tests.Virtio.Block;

public sealed class RawFileBlockBackendTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"raw-{Guid.NewGuid():N}.img");

    public RawFileBlockBackendTests() => File.WriteAllBytes(_path, Enumerable.Range(0, 8192).Select(i => (byte)i).ToArray());

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Read_only_opens_share_the_image_and_refuse_writes()
    {
        using var a = RawFileBlockBackend.Open(new DiskOptions(_path, ReadOnly: true));
        using var b = RawFileBlockBackend.Open(new DiskOptions(_path, ReadOnly: true));
        a.Length.Should().Be(8192);
        var sector = new byte[512];
        b.Read(512, sector).Should().BeTrue();
        sector[0].Should().Be(0);
        sector[1].Should().Be(1);

        a.Write(0, new byte[512]).Should().BeFalse();
        a.WriteZeroes(0, 512, mayUnmap: true).Should().BeFalse();
        a.LastError.Should().Contain("read-only");
        a.Flush().Should().BeTrue("there is nothing to make durable");
    }

    [Fact]
    public void Write_zeroes_without_hole_punching_writes_zeros_through_the_whole_range()
    {
        using (var disk = RawFileBlockBackend.Open(new DiskOptions(_path)))
        {
            disk.SupportsDiscard.Should().BeFalse();
            disk.Discard(0, 512).Should().BeFalse();
            disk.WriteZeroes(1024, 4096, mayUnmap: true).Should().BeTrue();
            disk.Flush().Should().BeTrue();
        }

        byte[] image = File.ReadAllBytes(_path);
        image.AsSpan(1024, 4096).ToArray().Should().OnlyContain(b => b == 0);
        image[1023].Should().Be(unchecked((byte)1023));
        image[5120].Should().Be(unchecked((byte)5120));
    }

    [Fact]
    public void A_missing_image_is_reported_as_such()
    {
        var act = () => RawFileBlockBackend.Open(new DiskOptions(_path + ".missing"));
        act.Should().Throw<FileNotFoundException>();
    }
}
