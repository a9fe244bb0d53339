using System.Buffers.Binary;
using Platform.Devices.Pci;
using Platform.Devices.Storage.Ahci;
using Platform.Devices.Tests.Fakes;
using static Platform.Devices.Storage.Ahci.AhciRegisters;

namespace Platform.Devices.Tests.Storage.Ahci;

// The AHCI function's MSI as QEMU's ich9-ahci offers it (one vector, 64-bit, no mask, the capability at 0x80) and as
// Linux's ahci driver uses it: enabled, each newly set enabled port status bit sends the message and INTx stays down.
public sealed class AhciMsiTests : IDisposable
{
    private static readonly MsiMessage Message = new(0xFEE0_0000, 0x0041);
    private static readonly byte[] TestUnitReady = [AtapiCdrom.TestUnitReady, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private readonly string _dir = Directory.CreateTempSubdirectory("ahci-msi-").FullName;
    private readonly FakeGuestMemory _memory = new(1 << 20);
    private readonly RecordingInterruptLine _intx = new();
    private readonly RecordingMsiTarget _msi = new();
    private readonly AtapiCdrom _drive;
    private readonly AhciDriver _driver;

    public AhciMsiTests()
    {
        _drive = new AtapiCdrom(IsoImage.Open(FakeIso.Create(_dir)));
        _driver = new AhciDriver(new AhciController(_memory, _intx, [_drive], _msi), _memory);
    }

    public void Dispose()
    {
        _drive.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_MSI_capability_is_the_first_at_0x80_with_one_64_bit_vector_and_no_mask_as_QEMUs()
    {
        var f = _driver.Controller;
        Config8(f, PciRegisters.CapabilitiesPointer).Should().Be(0x80);
        Config8(f, 0x80).Should().Be(PciRegisters.CapabilityIdMsi);
        Config8(f, 0x81).Should().Be(0, "no other capability");
        Config16(f, 0x82).Should().Be(0x0080, "64-bit, one vector, no per-vector mask, disabled");
        f.Msi!.Length.Should().Be(14);
    }

    [Fact]
    public void With_MSI_enabled_every_newly_set_enabled_status_bit_sends_the_message_and_INTx_never_rises()
    {
        EnableMsi();
        _driver.Write(GlobalHostControl, GhcAe | GhcIe);
        _driver.Write(AhciDriver.Port(0, PxIe), IsDhrs | IsTfes);

        _driver.StartPort(); // the signature's D2H FIS sets DHRS
        _driver.Packet(TestUnitReady).Should().Be(IsDhrs);
        _driver.Packet(TestUnitReady).Should().Be(IsDhrs);

        _msi.Signals.Should().Equal(Enumerable.Repeat((0, Message), 3));
        _intx.RisingEdges.Should().Be(0);
        (Config16(_driver.Controller, PciRegisters.Status) & PciRegisters.StatusInterrupt).Should().Be(0);
    }

    [Fact]
    public void A_bit_still_set_sends_nothing_more_but_turning_GHC_IE_on_under_it_does()
    {
        EnableMsi();
        _driver.Write(AhciDriver.Port(0, PxIe), IsDhrs);
        _driver.Write(AhciDriver.Port(0, PxClb), (uint)AhciDriver.CommandList);
        _driver.Write(AhciDriver.Port(0, PxFb), (uint)AhciDriver.FisArea);
        _driver.Write(AhciDriver.Port(0, PxCmd), CmdFre | CmdSud | CmdPod); // DHRS set, GHC.IE still off
        _msi.Signals.Should().BeEmpty();

        _driver.Write(GlobalHostControl, GhcAe | GhcIe);
        _driver.Write(AhciDriver.Port(0, PxIe), IsDhrs | IsPss); // IE rewritten, DHRS unchanged

        _msi.Signals.Should().HaveCount(1);
        _driver.Write(AhciDriver.Port(0, PxIs), IsDhrs);
        _driver.Write(GlobalHostControl, GhcAe);
        _driver.Write(GlobalHostControl, GhcAe | GhcIe);
        _msi.Signals.Should().HaveCount(1, "nothing is pending any more");
    }

    [Fact]
    public void Turning_MSI_off_puts_a_pending_level_back_on_INTx_and_on_again_takes_it_off()
    {
        EnableMsi();
        _driver.Write(GlobalHostControl, GhcAe | GhcIe);
        _driver.Write(AhciDriver.Port(0, PxIe), IsDhrs);
        _driver.Write(AhciDriver.Port(0, PxClb), (uint)AhciDriver.CommandList);
        _driver.Write(AhciDriver.Port(0, PxFb), (uint)AhciDriver.FisArea);
        _driver.Write(AhciDriver.Port(0, PxCmd), CmdFre | CmdSud | CmdPod);
        _msi.Signals.Should().HaveCount(1);
        _intx.Asserted.Should().BeFalse();

        WriteConfig16(0x82, 0);

        _intx.Asserted.Should().BeTrue("the port's status is still set and MSI is off");
        _msi.Changes[^1].Masked.Should().BeTrue("the route is dropped with MSI off");
        WriteConfig16(0x82, MsiCapability.ControlEnable);
        _intx.Asserted.Should().BeFalse();
    }

    private void EnableMsi()
    {
        Span<byte> dword = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(dword, (uint)Message.Address);
        _driver.Controller.WriteConfig(0x84, dword);
        BinaryPrimitives.WriteUInt32LittleEndian(dword, 0);
        _driver.Controller.WriteConfig(0x88, dword);
        WriteConfig16(0x8C, (ushort)Message.Data);
        WriteConfig16(0x82, MsiCapability.ControlEnable);
        _msi.Changes[^1].Should().Be((0, Message, false));
    }

    private void WriteConfig16(int offset, ushort value)
    {
        Span<byte> word = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(word, value);
        _driver.Controller.WriteConfig(offset, word);
    }

    private static byte Config8(PciFunction f, int offset)
    {
        Span<byte> b = stackalloc byte[1];
        f.ReadConfig(offset, b);
        return b[0];
    }

    private static ushort Config16(PciFunction f, int offset)
    {
        Span<byte> b = stackalloc byte[2];
        f.ReadConfig(offset, b);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }
}
