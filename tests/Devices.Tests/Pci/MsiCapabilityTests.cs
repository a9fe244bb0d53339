using System.Buffers.Binary;
using Platform.Devices.Abstractions;
using Platform.Devices.Pci;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Pci;

// MSI (PCI 3.0, 6.8.1) as a guest programs it through configuration space: the capability in the list, address, data,
// enable, the per-vector mask holding a message pending, and INTx staying quiet while MSI is on.
public sealed class MsiCapabilityTests
{
    private readonly RecordingMsiTarget _target = new();
    private readonly RecordingInterruptLine _intx = new();

    [Theory]
    [InlineData(true, true, 0x0180, 24)]
    [InlineData(true, false, 0x0080, 14)]
    [InlineData(false, true, 0x0100, 20)]
    [InlineData(false, false, 0x0000, 10)]
    public void The_capability_says_what_it_offers_and_is_chained_into_the_list(bool is64Bit, bool mask, int control, int length)
    {
        var function = new MsiFunction(_target, _intx, is64Bit, mask);

        Read8(function, PciRegisters.CapabilitiesPointer).Should().Be(0x40);
        Read8(function, 0x40).Should().Be(PciRegisters.CapabilityIdMsi);
        Read8(function, 0x41).Should().Be(0, "the last capability");
        Read16(function, 0x42).Should().Be((ushort)control, "one vector (MMC 0), disabled");
        (Read16(function, PciRegisters.Status) & PciRegisters.StatusCapabilityList).Should().NotBe(0);
        function.Msi!.Length.Should().Be(length);
    }

    [Fact]
    public void Enabling_routes_the_message_and_a_trigger_delivers_it_while_INTx_stays_down()
    {
        var function = new MsiFunction(_target, _intx, is64Bit: true, mask: false);
        Write32(function, 0x44, 0xFEE0_1003); // the low two bits are reserved and read as zero
        Write32(function, 0x48, 0);
        Write16(function, 0x4C, 0x4041);
        _target.Changes.Should().OnlyContain(c => c.Masked, "nothing can fire while MSI is off");
        function.Raise();
        _intx.Asserted.Should().BeTrue("MSI is off: the function uses INTx");

        Write16(function, 0x42, MsiCapability.ControlEnable);

        _intx.Asserted.Should().BeFalse("with MSI enabled INTx must be deasserted");
        (Read16(function, PciRegisters.Status) & PciRegisters.StatusInterrupt).Should().Be(0);
        Read32(function, 0x44).Should().Be(0xFEE0_1000u);
        _target.Changes[^1].Should().Be((0, new MsiMessage(0xFEE0_1000, 0x4041), false));
        function.Raise().Should().BeTrue();
        _target.Signals.Should().Equal((0, new MsiMessage(0xFEE0_1000, 0x4041)));

        Write16(function, 0x42, 0);

        _intx.Asserted.Should().BeTrue("the level still pending comes back on INTx once MSI is off");
        _target.Changes[^1].Masked.Should().BeTrue();
        function.Raise().Should().BeFalse();
    }

    [Fact]
    public void A_64_bit_address_reaches_the_route_whole()
    {
        var function = new MsiFunction(_target, _intx, is64Bit: true, mask: false);
        Write32(function, 0x44, 0xFEE0_0000);
        Write32(function, 0x48, 0x1);
        Write16(function, 0x4C, 0x30);
        Write16(function, 0x42, MsiCapability.ControlEnable);

        _target.Changes[^1].Message.Should().Be(new MsiMessage(0x1_FEE0_0000, 0x30));
    }

    [Fact]
    public void A_32_bit_capability_has_no_upper_address_and_its_data_at_8()
    {
        var function = new MsiFunction(_target, _intx, is64Bit: false, mask: false);
        Write32(function, 0x44, 0xFEE0_0000);
        Write16(function, 0x48, 0x31);
        Write16(function, 0x42, MsiCapability.ControlEnable);

        function.Raise();

        _target.Signals.Should().Equal((0, new MsiMessage(0xFEE0_0000, 0x31)));
    }

    [Fact]
    public void The_mask_bit_holds_a_message_pending_and_clearing_it_delivers_the_message_once()
    {
        var function = new MsiFunction(_target, _intx, is64Bit: true, mask: true);
        Write32(function, 0x44, 0xFEE0_0000);
        Write16(function, 0x4C, 0x33);
        Write32(function, 0x50, 1);
        Write16(function, 0x42, MsiCapability.ControlEnable);
        _target.Changes[^1].Masked.Should().BeTrue();

        function.Raise().Should().BeTrue("MSI is on, so no INTx even while masked");

        _target.Signals.Should().BeEmpty();
        _intx.Asserted.Should().BeFalse();
        Read32(function, 0x54).Should().Be(1u, "the pending bit");
        Write32(function, 0x54, 0);
        Read32(function, 0x54).Should().Be(1u, "pending bits are read-only");

        Write32(function, 0x50, 0);

        _target.Signals.Should().Equal((0, new MsiMessage(0xFEE0_0000, 0x33)));
        Read32(function, 0x54).Should().Be(0u);
        Write32(function, 0x50, 0xFFFF_FFFF);
        Read32(function, 0x50).Should().Be(1u, "one vector, one mask bit");
    }

    [Fact]
    public void Nonsense_writes_over_the_capability_never_throw_and_a_function_without_MSI_is_untouched()
    {
        var function = new MsiFunction(_target, _intx, is64Bit: true, mask: true);
        var random = new Random(15);
        byte[] bytes = new byte[4];
        for (int i = 0; i < 2000; i++)
        {
            random.NextBytes(bytes);
            int offset = 0x40 + random.Next(0x20);
            int length = 1 << random.Next(3);
            function.WriteConfig(offset, bytes.AsSpan(0, Math.Min(length, 0x100 - offset)));
            function.Raise();
        }

        Read8(function, 0x40).Should().Be(PciRegisters.CapabilityIdMsi, "the ID and next pointer are read-only");
        (Read16(function, 0x42) & 0xFF8E).Should().Be(0x0180, "the capability bits are read-only");
    }

    [Fact]
    public void A_capability_at_a_fixed_offset_must_be_dword_aligned_and_after_the_ones_already_there()
    {
        var config = new PciConfigSpace(0x1234, 0x0001, 0xFF0000);
        FluentActions.Invoking(() => config.AddCapability(PciRegisters.CapabilityIdMsi, new byte[8], at: 0x82)).Should().Throw<ArgumentOutOfRangeException>();

        config.AddCapability(PciRegisters.CapabilityIdMsi, new byte[8], at: 0x80).Should().Be(0x80);
        int next = config.AddCapability(PciRegisters.CapabilityIdVendor, new byte[2]);

        next.Should().Be(0x8C, "after the fixed one, dword aligned");
        config.ReadByte(0x81).Should().Be(0x8C, "chained");
        FluentActions.Invoking(() => config.AddCapability(PciRegisters.CapabilityIdVendor, new byte[2], at: 0x40)).Should().Throw<ArgumentOutOfRangeException>();
    }

    private static byte Read8(PciFunction f, int offset)
    {
        Span<byte> b = stackalloc byte[1];
        f.ReadConfig(offset, b);
        return b[0];
    }

    private static ushort Read16(PciFunction f, int offset)
    {
        Span<byte> b = stackalloc byte[2];
        f.ReadConfig(offset, b);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }

    private static uint Read32(PciFunction f, int offset)
    {
        Span<byte> b = stackalloc byte[4];
        f.ReadConfig(offset, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    private static void Write16(PciFunction f, int offset, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        f.WriteConfig(offset, b);
    }

    private static void Write32(PciFunction f, int offset, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        f.WriteConfig(offset, b);
    }

    /// <summary>A function with only an MSI capability; <see cref="Raise"/> is a level interrupt, sent as MSI when enabled.</summary>
    private sealed class MsiFunction : PciFunction
    {
        public MsiFunction(IMsiTarget target, IInterruptLine intx, bool is64Bit, bool mask)
            : base(new PciConfigSpace(0x1234, 0x0001, 0xFF0000), intx) =>
            AddMsiCapability(new MsiCapability(target, is64Bit, mask));

        public bool Raise()
        {
            SetIntxPending(true);
            return TriggerMsi();
        }

        protected override void OnBarRead(int barIndex, ulong offset, Span<byte> data) => data.Clear();

        protected override void OnBarWritten(int barIndex, ulong offset, ReadOnlySpan<byte> data)
        {
        }
    }
}
