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
    public void Vectored_reads_and_writes_move_the_buffers_back_to_back()
    {
        byte[] a = new byte[100], b = new byte[412], c = new byte[512];
        using (var disk = RawFileBlockBackend.Open(new DiskOptions(_path)))
        {
            disk.RequiredAlignment.Should().Be(1);
            disk.Read(1024, [a.AsMemory(), b.AsMemory(), c.AsMemory()]).Should().BeTrue();
            a[0].Should().Be(unchecked((byte)1024));
            b[0].Should().Be(unchecked((byte)1124));
            c[511].Should().Be(unchecked((byte)2047));

            disk.Write(4096, [new ReadOnlyMemory<byte>([.. Enumerable.Repeat((byte)0xA1, 300)]), new ReadOnlyMemory<byte>([.. Enumerable.Repeat((byte)0xB2, 212)])])
                .Should().BeTrue();
        }

        byte[] image = File.ReadAllBytes(_path);
        image.AsSpan(4096, 300).ToArray().Should().OnlyContain(x => x == 0xA1);
        image.AsSpan(4396, 212).ToArray().Should().OnlyContain(x => x == 0xB2);
        image[4608].Should().Be(unchecked((byte)4608));
    }

    [Fact]
    public void A_vectored_read_past_the_end_of_the_image_reads_zeros_there()
    {
        // The device sized the disk when it opened it; the file may have shrunk since under another writer.
        using var disk = RawFileBlockBackend.Open(new DiskOptions(_path));
        byte[] a = Enumerable.Repeat((byte)0xFF, 1536).ToArray(), b = Enumerable.Repeat((byte)0xFF, 1024).ToArray();
        disk.Read(6144, [a.AsMemory(), b.AsMemory()]).Should().BeTrue();
        a.Should().Equal(Enumerable.Range(6144, 1536).Select(i => unchecked((byte)i)));
        b.AsSpan(0, 512).ToArray().Should().Equal(Enumerable.Range(7680, 512).Select(i => unchecked((byte)i)));
        b.AsSpan(512).ToArray().Should().OnlyContain(x => x == 0);
    }

    [Fact]
    public void A_missing_image_is_reported_as_such()
    {
        var act = () => RawFileBlockBackend.Open(new DiskOptions(_path + ".missing"));
        act.Should().Throw<FileNotFoundException>();
    }
}
