using System.Buffers.Binary;
using System.Text;
using Platform.Devices.Pci;
using Platform.Devices.Storage.Ahci;
using Platform.Devices.Tests.Fakes;
using static Platform.Devices.Storage.Ahci.AhciRegisters;

namespace Platform.Devices.Tests.Storage.Ahci;

// The HBA and its ports as SeaBIOS's and Linux's drivers program them, with an ATAPI drive on port 0 and commands in
// fake guest memory; a guest's mistakes end its command with an error, never the device.
public sealed class AhciControllerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ahci-").FullName;
    private readonly FakeGuestMemory _memory = new(1 << 20);
    private readonly RecordingInterruptLine _intx = new();
    private readonly AtapiCdrom _drive;
    private readonly AhciDriver _driver;

    public AhciControllerTests()
    {
        _drive = new AtapiCdrom(IsoImage.Open(FakeIso.Create(_dir)));
        _driver = new AhciDriver(new AhciController(_memory, _intx, [_drive]), _memory);
    }

    public void Dispose()
    {
        _drive.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void It_is_QEMUs_ICH9_AHCI_function_with_its_registers_in_a_4_KiB_BAR_5()
    {
        var function = _driver.Controller;
        function.VendorId.Should().Be(0x8086);
        function.DeviceId.Should().Be(0x2922);
        Span<byte> classCode = stackalloc byte[3];
        function.ReadConfig(PciRegisters.ClassCode, classCode);
        classCode.ToArray().Should().Equal(0x01, 0x06, 0x01);
        function.BarSize(AhciController.AbarIndex).Should().Be(0x1000);
        function.InterruptPin.Should().Be(1);

        _driver.Read(HostCapabilities).Should().Be(0xC014_1F05, "64-bit, NCQ, AHCI only, Gen 1, 32 slots, 6 ports");
        _driver.Read(PortsImplemented).Should().Be(0x3F);
        _driver.Read(VersionRegister).Should().Be(0x0001_0000);
        _driver.Read(GlobalHostControl).Should().Be(GhcAe);
    }

    [Fact]
    public void A_port_with_a_drive_shows_a_link_and_sends_the_ATAPI_signature_once_FIS_receive_is_on()
    {
        _driver.Read(AhciDriver.Port(0, PxSsts)).Should().Be(0x113);
        _driver.Read(AhciDriver.Port(1, PxSsts)).Should().Be(0, "no device on port 1");
        _driver.Read(AhciDriver.Port(0, PxSig)).Should().Be(0xFFFF_FFFF, "no D2H FIS yet");

        _driver.StartPort();

        _driver.Read(AhciDriver.Port(0, PxSig)).Should().Be(AtapiCdrom.AtapiSignature);
        byte[] fis = _driver.Bytes(AhciDriver.FisArea + RxD2hRegister, 16);
        fis[0].Should().Be(FisRegisterD2H);
        (fis[5], fis[6]).Should().Be(((byte)0x14, (byte)0xEB));
        (_driver.Read(AhciDriver.Port(0, PxCmd)) & (CmdFr | CmdCr)).Should().Be(CmdFr | CmdCr);
        (_driver.Read(AhciDriver.Port(0, PxTfd)) & 0x89).Should().Be(0, "neither BSY, DRQ nor ERR");
    }

    [Fact]
    public void IDENTIFY_PACKET_DEVICE_comes_back_by_PIO_setup_with_the_CD_ROM_words_SeaBIOS_reads()
    {
        _driver.StartPort();

        uint status = _driver.Issue(AtapiCdrom.IdentifyPacketDevice);

        status.Should().Be(IsPss | IsDhrs);
        byte[] pio = _driver.Bytes(AhciDriver.FisArea + RxPioSetup, 20);
        pio[0].Should().Be(FisPioSetup);
        pio[15].Should().Be(0x50, "Linux reads a PIO data-in command's ending status from E_Status");
        _driver.TransferredBytes.Should().Be(512);
        byte[] words = _driver.Bytes(AhciDriver.DataBuffer, 512);
        BinaryPrimitives.ReadUInt16LittleEndian(words).Should().Be(0x85C0, "ATAPI, CD-ROM, removable");
        AtaString(words, 27, 40).Should().Be("Platform DVD-ROM");
        BinaryPrimitives.ReadUInt16LittleEndian(words.AsSpan(160)).Should().Be(0x1E, "SeaBIOS prints ATAPI-4 from word 80");
    }

    [Fact]
    public void IDENTIFY_DEVICE_is_aborted_with_the_ATAPI_signature_and_a_task_file_error()
    {
        _driver.StartPort();

        uint status = _driver.Issue(AtapiCdrom.IdentifyDevice);

        (status & IsTfes).Should().Be(IsTfes);
        _driver.D2h().Should().Be(((byte)0x41, (byte)0x04));
        _driver.Read(AhciDriver.Port(0, PxTfd)).Should().Be(0x0441);
    }

    [Fact]
    public void READ_10_scatters_sectors_over_the_PRDT_and_counts_the_bytes()
    {
        _driver.StartPort();

        uint status = _driver.Packet([AtapiCdrom.Read10, 0, 0, 0, 0, 16, 0, 0, 2, 0, 0, 0],
            [(AhciDriver.DataBuffer, 1000), (AhciDriver.DataBuffer + 0x4000, 3096)]);

        status.Should().Be(IsDhrs);
        _driver.TransferredBytes.Should().Be(4096);
        Encoding.ASCII.GetString(_driver.Bytes(AhciDriver.DataBuffer + 1, 5)).Should().Be("CD001");
        BinaryPrimitives.ReadInt32LittleEndian(_driver.Bytes(AhciDriver.DataBuffer + 0x4000 + 1048, 4)).Should().Be(0x5EC0_0011,
            "byte 2048 of the transfer, sector 17's first, is 1048 bytes into the second PRD");
        _drive.SectorsRead.Should().Be(2);
    }

    [Fact]
    public void INTx_rises_when_a_command_ends_with_GHC_IE_and_PxIE_set_and_falls_when_PxIS_is_cleared()
    {
        _driver.StartPort();
        _driver.Write(GlobalHostControl, GhcAe | GhcIe);
        _driver.Write(AhciDriver.Port(0, PxIe), IsDhrs | IsTfes);

        _driver.Write(AhciDriver.Port(0, PxCi), 0); // nothing issued: nothing raised
        _intx.Asserted.Should().BeFalse();
        WriteHeaderAndIssueTestUnitReady();

        _intx.Asserted.Should().BeTrue();
        _driver.Read(InterruptStatus).Should().Be(1);
        _driver.Write(AhciDriver.Port(0, PxIs), IsDhrs);
        _intx.Asserted.Should().BeFalse();
        _driver.Read(InterruptStatus).Should().Be(0);
    }

    [Fact]
    public void A_command_list_outside_RAM_is_a_host_bus_fatal_error_and_the_port_keeps_working()
    {
        _driver.StartPort();
        _driver.Write(AhciDriver.Port(0, PxClb), 0xFFFF_0000);
        _driver.Write(AhciDriver.Port(0, PxCi), 1);

        _driver.Read(AhciDriver.Port(0, PxCi)).Should().Be(0);
        (_driver.Read(AhciDriver.Port(0, PxIs)) & (IsHbfs | IsTfes)).Should().Be(IsHbfs | IsTfes);
        _driver.Controller.Ports[0].BadCommands.Should().Be(1);

        _driver.StartPort();
        _driver.Packet([AtapiCdrom.TestUnitReady, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).Should().Be(IsDhrs);
    }

    [Fact]
    public void A_buffer_outside_RAM_is_a_host_bus_data_error_and_a_bad_FIS_an_interface_error()
    {
        _driver.StartPort();

        uint badBuffer = _driver.Packet([AtapiCdrom.Read10, 0, 0, 0, 0, 16, 0, 0, 1, 0, 0, 0], [(0xF000_0000, 2048)]);
        uint badFis = _driver.Issue(AtapiCdrom.IdentifyPacketDevice, fisType: 0x5F);
        uint badTable = _driver.Issue(AtapiCdrom.IdentifyPacketDevice, table: 0x7FFF_FF80);

        badBuffer.Should().Be(IsHbds | IsTfes);
        badFis.Should().Be(IsIfs | IsTfes);
        badTable.Should().Be(IsHbfs | IsTfes);
        _driver.Controller.Ports[0].BadCommands.Should().Be(3);
    }

    [Fact]
    public void A_PRDT_of_65535_entries_ends_where_the_data_does_and_a_read_past_the_buffer_limit_is_refused()
    {
        _driver.StartPort();

        _driver.Issue(AtapiCdrom.PacketCommand, [AtapiCdrom.Read10, 0, 0, 0, 0, 16, 0, 0, 1, 0, 0, 0], [(AhciDriver.DataBuffer, 4096)], features: 1, prdtLength: 65535)
            .Should().Be(IsDhrs);
        _driver.TransferredBytes.Should().Be(2048);

        _driver.Packet([AtapiCdrom.Read12, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0]).Should().Be(IsDhrs | IsTfes);
        _driver.Sense().Should().Be(((byte)5, (byte)0x21, (byte)0), "past the medium's end: LBA out of range");
    }

    [Fact]
    public void Sub_dword_writes_and_unknown_registers_are_counted_and_ignored()
    {
        _driver.Controller.WriteBar(AhciController.AbarIndex, GlobalHostControl, [1]);
        _driver.Write(0x80, 1);

        _driver.Controller.BadAccesses.Should().Be(2);
        _driver.Read(GlobalHostControl).Should().Be(GhcAe);
    }

    [Fact]
    public void COMRESET_and_HBA_reset_bring_the_signature_back()
    {
        _driver.StartPort();
        _driver.Write(AhciDriver.Port(0, PxSctl), 1);
        _driver.Read(AhciDriver.Port(0, PxSsts)).Should().Be(0, "the link is down while COMRESET is asserted");
        _memory.TryWrite(AhciDriver.FisArea + RxD2hRegister, new byte[20]);
        _driver.Write(AhciDriver.Port(0, PxSctl), 0);

        _driver.Read(AhciDriver.Port(0, PxSsts)).Should().Be(0x113);
        _driver.Bytes(AhciDriver.FisArea + RxD2hRegister, 1)[0].Should().Be(FisRegisterD2H);
        (_driver.Read(AhciDriver.Port(0, PxSerr)) & SerrDiagX).Should().Be(SerrDiagX);

        _driver.Write(GlobalHostControl, GhcHr);
        _driver.Read(GlobalHostControl).Should().Be(GhcAe, "HR reads 0 once the reset is done");
        _driver.Read(AhciDriver.Port(0, PxCmd)).Should().Be(CmdSud | CmdPod);
        _driver.Read(AhciDriver.Port(0, PxSig)).Should().Be(0xFFFF_FFFF);
    }

    private void WriteHeaderAndIssueTestUnitReady()
    {
        Span<byte> header = stackalloc byte[CommandHeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, 5 | HeaderAtapi);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], AhciDriver.CommandTable);
        _memory.TryWrite(AhciDriver.CommandList, header);
        byte[] fis = new byte[20];
        fis[0] = FisRegisterH2D;
        fis[1] = FisCommandBit;
        fis[2] = AtapiCdrom.PacketCommand;
        _memory.TryWrite(AhciDriver.CommandTable, fis);
        _memory.TryWrite(AhciDriver.CommandTable + TableAtapiCommand, new byte[16]);
        _driver.Write(AhciDriver.Port(0, PxCi), 1);
    }

    private static string AtaString(byte[] words, int first, int length)
    {
        var text = new StringBuilder();
        for (int i = 0; i < length; i += 2)
        {
            text.Append((char)words[(2 * (first + (i / 2))) + 1]).Append((char)words[2 * (first + (i / 2))]);
        }

        return text.ToString().TrimEnd();
    }
}
