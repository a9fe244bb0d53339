using Platform.Devices.Virtio.Block;

namespace Platform.Devices.Tests.Virtio.Block;

public sealed class DiskOptionsTests
{
    [Theory]
    [InlineData("disk.img", false, DiskCacheMode.Writeback, null)]
    [InlineData("disk.img,ro", true, DiskCacheMode.Writeback, null)]
    [InlineData("/var/lib/vm/a.raw,cache=none", false, DiskCacheMode.None, null)]
    [InlineData("a.img,ro,cache=writeback,serial=root-disk", true, DiskCacheMode.Writeback, "root-disk")]
    public void The_disk_argument_parses(string spec, bool readOnly, DiskCacheMode cache, string? serial)
    {
        DiskOptions.Parse(spec).Should().Be(new DiskOptions(spec.Split(',')[0], readOnly, cache, serial));
    }

    [Theory]
    [InlineData("a.qcow2,format=qcow2", DiskImageFormat.Qcow2)]
    [InlineData("a.img,ro,format=raw", DiskImageFormat.Raw)]
    public void The_format_is_given_or_left_to_detection(string spec, DiskImageFormat format)
    {
        DiskOptions.Parse(spec).Format.Should().Be(format);
        DiskOptions.Parse("a.img").Format.Should().BeNull("without format= the image's first bytes decide");
    }

    [Theory]
    [InlineData("a.img", DiskInterface.Virtio)]
    [InlineData("a.img,bus=virtio", DiskInterface.Virtio)]
    [InlineData("win.img,ro,bus=sata,cache=none", DiskInterface.Sata)]
    public void The_bus_is_virtio_unless_sata_is_asked_for(string spec, DiskInterface bus)
    {
        DiskOptions.Parse(spec).Bus.Should().Be(bus);
    }

    [Fact]
    public void Disk_limits_parse_and_make_a_throttle()
    {
        var options = DiskOptions.Parse("a.img,bps=1048576,iops=200");
        options.BytesPerSecond.Should().Be(1 << 20);
        options.Iops.Should().Be(200);
        var throttle = options.CreateThrottle();
        throttle.Should().NotBeNull();
        throttle!.BytesPerSecond.Should().Be(1 << 20);
        throttle.Iops.Should().Be(200);
        DiskOptions.Parse("a.img").CreateThrottle().Should().BeNull("no limit, no throttle");
    }

    [Theory]
    [InlineData("a.img,bps=")]
    [InlineData("a.img,bps=-5")]
    [InlineData("a.img,iops=1.5")]
    [InlineData(",ro")]
    [InlineData("a.img,format=vmdk")]
    [InlineData("a.img,cache=unsafe")]
    [InlineData("a.img,bus=ide")]
    [InlineData("a.img,serial=")]
    [InlineData("a.img,serial=123456789012345678901")]
    public void Bad_disk_arguments_say_what_is_wrong(string spec)
    {
        var act = () => DiskOptions.Parse(spec);
        act.Should().Throw<FormatException>().WithMessage("--disk *");
    }
}
