using Platform.Devices.Tests.Virtio.Block.Qcow2;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Devices.Tests.Virtio.Block;

public sealed class DiskImagesTests : IDisposable
{
    private readonly ImageFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_format_is_detected_from_the_qcow2_magic()
    {
        string raw = _dir["a.img"], qcow2 = _dir["b.img"];
        File.WriteAllBytes(raw, new byte[65536]);
        Qcow2Creator.Create(qcow2, 1 << 20);
        using var rawDisk = DiskImages.Open(new DiskOptions(raw));
        using var qcowDisk = DiskImages.Open(new DiskOptions(qcow2));
        rawDisk.Should().BeOfType<RawFileBlockBackend>();
        qcowDisk.Should().BeOfType<Qcow2BlockBackend>().Which.Length.Should().Be(1 << 20);
        ((IDiskImage)qcowDisk).Describe().Lines().Single().Should().Contain("qcow2 v3").And.Contain("virtual size 1 MiB");
    }

    [Fact]
    public void A_detected_raw_image_refuses_a_guest_write_that_would_make_it_look_like_qcow2()
    {
        string raw = _dir["r.img"];
        File.WriteAllBytes(raw, new byte[65536]);
        byte[] header = new byte[512]; // what a guest would write to smuggle in a header naming a host file as backing file
        header[0] = (byte)'Q';
        header[1] = (byte)'F';
        header[2] = (byte)'I';
        header[3] = 0xFB;
        using (var probed = DiskImages.Open(new DiskOptions(raw)))
        {
            probed.Write(0, header).Should().BeFalse();
            probed.LastError.Should().Contain("format=raw");
            probed.Write(0, [header.AsMemory(0, 2), header.AsMemory(2)]).Should().BeFalse("split across buffers too");
            probed.Write(512, header).Should().BeTrue("only the image's first bytes matter");
        }

        DiskImageProbe.Detect(raw).Should().Be(DiskImageFormat.Raw);
        using (var explicitRaw = DiskImages.Open(new DiskOptions(raw, Format: DiskImageFormat.Raw)))
        {
            explicitRaw.Write(0, header).Should().BeTrue("format=raw says the magic is data");
        }

        DiskImageProbe.Detect(raw).Should().Be(DiskImageFormat.Qcow2);
        using var stillRaw = DiskImages.Open(new DiskOptions(raw, Format: DiskImageFormat.Raw));
        stillRaw.Should().BeOfType<RawFileBlockBackend>();
    }

    [Fact]
    public void Format_qcow2_on_a_raw_file_is_refused()
    {
        string raw = _dir["r.img"];
        File.WriteAllBytes(raw, new byte[65536]);
        var open = () => DiskImages.Open(new DiskOptions(raw, Format: DiskImageFormat.Qcow2));
        open.Should().Throw<DiskImageException>().WithMessage("*not a qcow2 image*");
    }

    [Fact]
    public void A_writable_qcow2_image_is_locked_against_a_second_writer_and_its_backing_file_against_writers()
    {
        File.WriteAllBytes(_dir["base.raw"], new byte[65536]);
        Qcow2Creator.Create(_dir["top.qcow2"], 65536, "base.raw");
        using var first = DiskImages.Open(new DiskOptions(_dir["top.qcow2"]));
        var second = () => DiskImages.Open(new DiskOptions(_dir["top.qcow2"]));
        second.Should().Throw<IOException>().WithMessage("*another VM*");
        var writeBase = () => DiskImages.Open(new DiskOptions(_dir["base.raw"]));
        writeBase.Should().Throw<IOException>("the overlay holds its backing file with a shared lock");
        using var readBase = DiskImages.Open(new DiskOptions(_dir["base.raw"], ReadOnly: true));
    }

    [Fact]
    public void Describe_lists_the_backing_chain()
    {
        File.WriteAllBytes(_dir["base.raw"], new byte[3 << 20]);
        Qcow2Creator.Create(_dir["mid.qcow2"], 3 << 20, "base.raw");
        Qcow2Creator.Create(_dir["top.qcow2"], 4 << 20, _dir["mid.qcow2"], DiskImageFormat.Qcow2); // an absolute name
        var description = DiskImages.Describe(_dir["top.qcow2"]);
        description.VirtualSize.Should().Be(4 << 20);
        description.BackingName.Should().Be(_dir["mid.qcow2"]);
        string[] lines = [.. description.Lines()];
        lines.Should().HaveCount(3);
        lines[1].Should().StartWith("backing: ").And.Contain("mid.qcow2: qcow2 v3");
        lines[2].Should().Contain("base.raw: raw, virtual size 3 MiB");
    }
}
