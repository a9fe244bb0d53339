using Platform.Engine.Boot;

namespace Platform.Engine.Tests.Boot;

// The BIOS image is checked before anything is built: the mistakes people make get a message, not a dead guest.
public sealed class FirmwareImageTests : IDisposable
{
    private readonly string _file = Path.GetTempFileName();

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void Debians_SeaBIOS_loads_and_ends_at_4_GiB()
    {
        var image = FirmwareImage.Load(VmConfig.DebianSeaBios);

        image.Size.Should().Be(128 << 10);
        image.GuestAddress.Should().Be(0xFFFE_0000);
        image.LegacyWindowBytes.Should().Be(128 << 10, "its last 128 KiB also appear at 0xE0000-0xFFFFF");
        image.Bytes.Span[^16].Should().Be(0xEA, "SeaBIOS's reset vector is a far jump");
    }

    [Fact]
    public void A_missing_image_names_the_package_to_install()
    {
        var load = () => FirmwareImage.Load("/nonexistent/bios.bin");

        load.Should().Throw<BootException>().WithMessage("The BIOS image /nonexistent/bios.bin does not exist.");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData((128 << 10) + 512)]
    [InlineData(32 << 20)]
    public void An_image_of_the_wrong_size_is_refused(int size)
    {
        File.WriteAllBytes(_file, new byte[size]);

        var load = () => FirmwareImage.Load(_file);

        load.Should().Throw<BootException>().WithMessage($"*is {size} bytes; a BIOS image is a whole number of 64 KiB*");
    }

    [Fact]
    public void An_image_without_a_jump_at_the_reset_vector_is_not_a_BIOS()
    {
        File.WriteAllBytes(_file, new byte[128 << 10]);

        var load = () => FirmwareImage.Load(_file);

        load.Should().Throw<BootException>().WithMessage("*is not a PC BIOS: its reset vector (16 bytes below the top) starts with 0x00, not a jump*");
    }
}
