using System.Buffers.Binary;
using System.Text;
using Platform.Devices.Firmware;

namespace Platform.Devices.Tests.Firmware;

// The linker/loader script's bytes, laid out as SeaBIOS's romfile_loader reads them, and the mistakes it refuses to write.
public sealed class TableLoaderCommandsTests
{
    [Fact]
    public void Each_command_is_128_little_endian_bytes_with_NUL_padded_names()
    {
        byte[] script = new TableLoaderCommands()
            .AllocateFile("etc/acpi/tables", 64, TableLoaderCommands.Zone.High)
            .AllocateFile("etc/acpi/rsdp", 16, TableLoaderCommands.Zone.FSegment)
            .AddPointerTo("etc/acpi/rsdp", 16, "etc/acpi/tables", 4)
            .AddChecksumOf("etc/acpi/rsdp", 8, 0, 20)
            .ToArray();

        script.Length.Should().Be(4 * 128);
        var allocate = script.AsSpan(0, 128);
        BinaryPrimitives.ReadUInt32LittleEndian(allocate).Should().Be(1);
        Encoding.ASCII.GetString(allocate.Slice(4, 56)).Should().Be("etc/acpi/tables".PadRight(56, '\0'));
        BinaryPrimitives.ReadUInt32LittleEndian(allocate[60..]).Should().Be(64);
        allocate[64].Should().Be(1);
        script[128 + 64].Should().Be(2, "the RSDP goes in the F segment");
        var pointer = script.AsSpan(256, 128);
        BinaryPrimitives.ReadUInt32LittleEndian(pointer).Should().Be(2);
        Encoding.ASCII.GetString(pointer.Slice(60, 56)).TrimEnd('\0').Should().Be("etc/acpi/tables");
        BinaryPrimitives.ReadUInt32LittleEndian(pointer[116..]).Should().Be(16);
        pointer[120].Should().Be(4);
        var checksum = script.AsSpan(384, 128);
        BinaryPrimitives.ReadUInt32LittleEndian(checksum).Should().Be(3);
        BinaryPrimitives.ReadUInt32LittleEndian(checksum[60..]).Should().Be(8);
        BinaryPrimitives.ReadUInt32LittleEndian(checksum[64..]).Should().Be(0);
        BinaryPrimitives.ReadUInt32LittleEndian(checksum[68..]).Should().Be(20);
        script.AsSpan(384 + 72).ToArray().Should().OnlyContain(b => b == 0);
    }

    [Fact]
    public void It_refuses_what_SeaBIOS_would_silently_skip()
    {
        var loader = new TableLoaderCommands().AllocateFile("a", 16, TableLoaderCommands.Zone.High);

        loader.Invoking(l => l.AddPointerTo("a", 0, "b", 4)).Should().Throw<InvalidOperationException>().WithMessage("*b is named before it is allocated*");
        loader.Invoking(l => l.AddChecksumOf("c", 0, 0, 1)).Should().Throw<InvalidOperationException>();
        loader.Invoking(l => l.AllocateFile("a", 16, TableLoaderCommands.Zone.High)).Should().Throw<ArgumentException>();
        loader.Invoking(l => l.AllocateFile("b", 24, TableLoaderCommands.Zone.High)).Should().Throw<ArgumentOutOfRangeException>();
        loader.Invoking(l => l.AddPointerTo("a", 0, "a", 3)).Should().Throw<ArgumentOutOfRangeException>();
        loader.Invoking(l => l.AllocateFile(new string('x', 56), 16, TableLoaderCommands.Zone.High)).Should().Throw<ArgumentException>();
        loader.Count.Should().Be(1);
    }
}
