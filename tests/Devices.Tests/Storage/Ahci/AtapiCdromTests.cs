using System.Buffers.Binary;
using System.Text;
using Platform.Devices.Storage.Ahci;
using Platform.Devices.Tests.Fakes;
using static Platform.Devices.Storage.Ahci.AhciRegisters;

namespace Platform.Devices.Tests.Storage.Ahci;

// The MMC commands through PACKET on an AHCI port, and the medium's comings and goings as the guest hears of them.
public sealed class AtapiCdromTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("atapi-").FullName;
    private readonly FakeGuestMemory _memory = new(1 << 20);
    private readonly AtapiCdrom _drive;
    private readonly AhciDriver _driver;

    public AtapiCdromTests()
    {
        _drive = new AtapiCdrom(IsoImage.Open(FakeIso.Create(_dir, sectors: 40)));
        _driver = new AhciDriver(new AhciController(_memory, new RecordingInterruptLine(), [_drive]), _memory);
        _driver.StartPort();
    }

    public void Dispose()
    {
        _drive.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static byte[] Cdb(params byte[] bytes) => [.. bytes, .. new byte[12 - bytes.Length]];

    [Fact]
    public void INQUIRY_names_a_removable_CD_DVD_device()
    {
        _driver.Packet(Cdb(AtapiCdrom.Inquiry, 0, 0, 0, 36)).Should().Be(IsDhrs);

        byte[] data = _driver.Bytes(AhciDriver.DataBuffer, 36);
        (data[0], data[1]).Should().Be(((byte)5, (byte)0x80));
        Encoding.ASCII.GetString(data, 16, 16).Should().Be("Platform DVD-ROM");
        _driver.TransferredBytes.Should().Be(36);
    }

    [Fact]
    public void READ_CAPACITY_and_READ_TOC_describe_the_image()
    {
        _driver.Packet(Cdb(AtapiCdrom.ReadCapacity)).Should().Be(IsDhrs);
        byte[] capacity = _driver.Bytes(AhciDriver.DataBuffer, 8);
        BinaryPrimitives.ReadUInt32BigEndian(capacity).Should().Be(39);
        BinaryPrimitives.ReadUInt32BigEndian(capacity.AsSpan(4)).Should().Be(2048);

        _driver.Packet(Cdb(AtapiCdrom.ReadToc, 0, 0, 0, 0, 0, 0, 0, 100)).Should().Be(IsDhrs);
        byte[] toc = _driver.Bytes(AhciDriver.DataBuffer, 20);
        BinaryPrimitives.ReadUInt16BigEndian(toc).Should().Be(18);
        (toc[6], toc[14]).Should().Be(((byte)1, (byte)0xAA), "track 1, then the lead-out");
        BinaryPrimitives.ReadUInt32BigEndian(toc.AsSpan(16)).Should().Be(40);

        _driver.Packet(Cdb(AtapiCdrom.ReadToc, 2, 0, 0, 0, 0, 0xAA, 0, 12)).Should().Be(IsDhrs);
        _driver.Bytes(AhciDriver.DataBuffer + 9, 3).Should().Equal(new byte[] { 0, 2, 40 }, "the lead-out at 40 + 150 frames is 00:02:40 in MSF");
    }

    [Fact]
    public void GET_CONFIGURATION_and_MODE_SENSE_answer_as_a_CD_ROM_drive()
    {
        _driver.Packet(Cdb(AtapiCdrom.GetConfiguration, 0, 0, 0, 0, 0, 0, 0, 64)).Should().Be(IsDhrs);
        byte[] config = _driver.Bytes(AhciDriver.DataBuffer, 24);
        BinaryPrimitives.ReadUInt16BigEndian(config.AsSpan(6)).Should().Be(0x0008, "a small image is a CD-ROM profile");

        _driver.Packet(Cdb(AtapiCdrom.ModeSense10, 0, 0x2A, 0, 0, 0, 0, 0, 28)).Should().Be(IsDhrs);
        byte[] mode = _driver.Bytes(AhciDriver.DataBuffer, 28);
        (mode[8], mode[9]).Should().Be(((byte)0x2A, (byte)18));

        _driver.Packet(Cdb(AtapiCdrom.ModeSense10, 0, 0x05, 0, 0, 0, 0, 0, 28)).Should().Be(IsDhrs | IsTfes);
        _driver.D2h().Error.Should().Be(0x50, "ILLEGAL REQUEST in the error register's sense key bits");
        _driver.Sense().Should().Be(((byte)5, (byte)0x24, (byte)0));
    }

    [Fact]
    public void An_unknown_opcode_is_an_illegal_request()
    {
        _driver.Packet(Cdb(0xFF)).Should().Be(IsDhrs | IsTfes);
        _driver.Sense().Should().Be(((byte)5, (byte)0x20, (byte)0));
        _driver.Sense().Should().Be(((byte)0, (byte)0, (byte)0), "REQUEST SENSE clears what it reported");
    }

    [Fact]
    public void Eject_empties_the_drive_and_the_guest_sees_no_medium_and_a_removal_event_once()
    {
        _drive.Eject(force: false).Should().BeTrue();

        _driver.Packet(Cdb(AtapiCdrom.TestUnitReady)).Should().Be(IsDhrs | IsTfes);
        _driver.Sense().Should().Be(((byte)2, (byte)0x3A, (byte)0), "NOT READY, medium not present");
        Gesn().Should().Equal(new byte[] { 3, 0x01 }, "media removal, tray open");
        Gesn().Should().Equal(new byte[] { 0, 0x01 }, "each event is reported once");
        _driver.Packet(Cdb(AtapiCdrom.Read10, 0, 0, 0, 0, 16, 0, 0, 1)).Should().Be(IsDhrs | IsTfes);
    }

    [Fact]
    public void A_disc_inserted_raises_one_unit_attention_and_a_new_media_event()
    {
        _drive.Eject(force: false);
        Gesn();
        string other = FakeIso.Create(_dir, "SECOND", sectors: 20);

        _drive.Insert(IsoImage.Open(other));

        Gesn().Should().Equal(new byte[] { 2, 0x02 }, "new media, present");
        _driver.Packet(Cdb(AtapiCdrom.TestUnitReady)).Should().Be(IsDhrs | IsTfes);
        _driver.Sense().Should().Be(((byte)6, (byte)0x28, (byte)0), "UNIT ATTENTION: medium may have changed");
        _driver.Packet(Cdb(AtapiCdrom.TestUnitReady)).Should().Be(IsDhrs, "reported once");
        _driver.Packet(Cdb(AtapiCdrom.ReadCapacity)).Should().Be(IsDhrs);
        BinaryPrimitives.ReadUInt32BigEndian(_driver.Bytes(AhciDriver.DataBuffer, 4)).Should().Be(19);
        _drive.MediumPath.Should().Be(other);
    }

    [Fact]
    public void A_locked_tray_refuses_the_hosts_eject_unless_forced_and_the_guests_own_eject()
    {
        _driver.Packet(Cdb(AtapiCdrom.PreventAllowMediumRemoval, 0, 0, 0, 1)).Should().Be(IsDhrs);

        _drive.Eject(force: false).Should().BeFalse();
        Gesn().Should().Equal(new byte[] { 1, 0x02 }, "the guest hears an eject request");
        _driver.Packet(Cdb(AtapiCdrom.StartStopUnit, 0, 0, 0, 2)).Should().Be(IsDhrs | IsTfes);
        _driver.Sense().Should().Be(((byte)5, (byte)0x53, (byte)2), "medium removal prevented");
        _drive.MediumPath.Should().NotBeNull();

        _drive.Eject(force: true).Should().BeTrue();
        _drive.MediumPath.Should().BeNull();
        _drive.Locked.Should().BeFalse();
    }

    [Fact]
    public void The_guest_ejects_with_START_STOP_UNIT_once_it_allows_removal()
    {
        _driver.Packet(Cdb(AtapiCdrom.PreventAllowMediumRemoval, 0, 0, 0, 0)).Should().Be(IsDhrs);
        _driver.Packet(Cdb(AtapiCdrom.StartStopUnit, 0, 0, 0, 2)).Should().Be(IsDhrs);

        _drive.MediumPath.Should().BeNull();
    }

    [Fact]
    public void A_file_that_is_not_ISO_9660_is_refused_with_the_reason()
    {
        string path = Path.Combine(_dir, "disk.img");
        File.WriteAllBytes(path, new byte[64 * 1024]);

        var open = () => IsoImage.Open(path);

        open.Should().Throw<IsoImageException>().WithMessage($"*'{path}' is not an ISO 9660 image*");
        FluentActions.Invoking(() => IsoImage.Open(Path.Combine(_dir, "missing.iso"))).Should().Throw<IsoImageException>()
            .WithMessage("*cannot be opened*");
    }

    [Fact]
    public void A_disc_taken_out_at_power_off_and_loaded_into_the_next_boots_drive_is_there_quietly_and_still_reads()
    {
        var disc = _drive.TakeMedium();
        disc.Should().NotBeNull();
        _drive.MediumPath.Should().BeNull();
        using var nextBoot = new AtapiCdrom(null);
        var driver = new AhciDriver(new AhciController(_memory, new RecordingInterruptLine(), [nextBoot]), _memory);
        driver.StartPort();

        nextBoot.Load(disc!);

        driver.Packet(Cdb(AtapiCdrom.TestUnitReady)).Should().Be(IsDhrs, "a disc there at power-on raises no UNIT ATTENTION");
        driver.Packet(Cdb(AtapiCdrom.Read10, 0, 0, 0, 0, 16, 0, 0, 1)).Should().Be(IsDhrs, "the image was not closed in between");
        driver.Bytes(AhciDriver.DataBuffer + 1, 5).Should().Equal("CD001"u8.ToArray());
        FluentActions.Invoking(() => nextBoot.Load(disc!)).Should().Throw<InvalidOperationException>("the drive is not empty");
    }

    [Fact]
    public void An_image_from_a_passed_descriptor_reports_its_given_name_and_closes_the_descriptor_it_owns()
    {
        string iso = FakeIso.Create(_dir, "PASSED", sectors: 20);
        var file = File.OpenHandle(iso, FileMode.Open, FileAccess.Read);
        File.Delete(iso); // read through the descriptor only

        var image = IsoImage.Open("/library/passed.iso", file);

        image.Path.Should().Be("/library/passed.iso");
        image.VolumeLabel.Should().Be("PASSED");
        _drive.Insert(image);
        _drive.MediumPath.Should().Be("/library/passed.iso");
        _drive.Eject(force: false);
        file.IsClosed.Should().BeTrue("the drive closed the disc it ejected, and the image owned the descriptor");

        string notIso = Path.Combine(_dir, "disk.img");
        File.WriteAllBytes(notIso, new byte[64 * 1024]);
        var refused = File.OpenHandle(notIso, FileMode.Open, FileAccess.Read);
        FluentActions.Invoking(() => IsoImage.Open("disk.img", refused)).Should().Throw<IsoImageException>().WithMessage("*'disk.img' is not an ISO 9660 image*");
        refused.IsClosed.Should().BeTrue("a refused descriptor is closed, not leaked");
    }

    /// <summary>GET EVENT STATUS NOTIFICATION (polled, media class): the event code and the media status byte.</summary>
    private byte[] Gesn()
    {
        _driver.Packet(Cdb(AtapiCdrom.GetEventStatusNotification, 1, 0, 0, 0x10, 0, 0, 0, 8)).Should().Be(IsDhrs);
        byte[] data = _driver.Bytes(AhciDriver.DataBuffer, 8);
        data[2].Should().Be(4, "the media class");
        return [data[4], data[5]];
    }
}
