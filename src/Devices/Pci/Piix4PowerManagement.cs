using System.Buffers.Binary;
using System.Diagnostics;
using Platform.Devices.Abstractions;

namespace Platform.Devices.Pci;

/// <summary>
/// The PIIX4's power-management function at 00:01.3 (8086:7113, revision 3, class 0x0680), as QEMU's pc machine has it:
/// ACPI's fixed hardware for the guest. Its PM I/O block (64 ports wherever the firmware points PMBASE, 0x40, once
/// PMREGMISC bit 0 turns it on) holds PM1 status and enable (the power button, the timer's overflow), PM1 control
/// (SCI_EN, and the sleep type the guest powers off with) and the PM timer, 24 bits at 3.579545 MHz; GPE0 sits at
/// 0xAFE0 and the APM control port at 0xB2 turns ACPI on and off as the FADT's SMI_CMD. The SCI is ISA IRQ 9.
/// </summary>
/// <remarks>
/// <para>
/// Registers 0x40–0xFF are storage, as in QEMU; PMBASE decodes bits 15–6 and its bit 0 reads 1 (an I/O address). The
/// SMBus registers (0x90, 0xD2) are kept but there is no SMBus controller behind them. Byte 0x5B (DEVACTB's APMC_EN)
/// starts set, as QEMU sets it without SMM: SeaBIOS takes it for "SMM is set up already" and never raises an SMI, which
/// KVM here could not deliver.
/// </para>
/// <para>
/// Without SMM the APM port does what QEMU's SMI handler does: ACPI_ENABLE (0xF1) sets SCI_EN, ACPI_DISABLE (0xF0)
/// clears it. Writing PM1 control with SLP_EN and SLP_TYP 0 (the DSDT's \_S5) asks for power-off
/// (<see cref="PowerOffRequested"/>); other sleep types are not offered by the DSDT and are counted and ignored. The
/// SCI follows QEMU's rule: raised while an enabled PM1 event (timer, global, power button, RTC) or an enabled GPE0
/// event is pending. The timer's overflow status is computed when read; it raises no SCI of its own (no OS we know
/// enables TMR_EN), and the timer runs while the VM is paused.
/// </para>
/// </remarks>
public sealed partial class Piix4PowerManagement : PciFunction
{
    public const ushort DeviceId82371AB = 0x7113;
    public const uint OtherBridgeClass = 0x06_80_00;
    public const byte Revision = 0x03;

    /// <summary>The ISA IRQ the SCI is wired to on every PIIX4 board (SeaBIOS: "acpi sci is hardwired to 9").</summary>
    public const byte SciIrq = 9;

    public const int PmBaseRegister = 0x40, PmRegMiscRegister = 0x80, DevActBRegister = 0x58;
    public const byte PmIoEnable = 0x01;
    private const ushort PmBaseMask = 0xFFC0;
    private const byte ApmcEnabled = 0x02; // DEVACTB bit 25, in byte 0x5B
    private const int DeviceSpecificStart = 0x40;

    private readonly IInterruptLine _sci;
    private readonly Action<ushort?> _pmBlockMoved;
    private readonly long _timerStart = Stopwatch.GetTimestamp();
    private ushort? _pmBlock;

    /// <param name="sci">ISA IRQ 9's line.</param>
    /// <param name="pmBlockMoved">Told, under the configuration lock, where the PM I/O block now decodes (null: nowhere),
    /// so the machine moves <see cref="PmBlock"/> on its port bus.</param>
    public Piix4PowerManagement(IInterruptLine sci, Action<ushort?> pmBlockMoved)
        : base(new PciConfigSpace(PciHostBridgeFunction.IntelVendorId, DeviceId82371AB, OtherBridgeClass, Revision), intx: null)
    {
        _sci = sci;
        _pmBlockMoved = pmBlockMoved;
        PmBlock = new PmIoBlock(this);
        Gpe0Block = new Gpe0Registers(this);
        ApmPorts = new ApmRegisters(this);
        Config.SetWord(PciRegisters.SubsystemVendorId, I440fxHostBridgeFunction.QemuSubsystemVendor);
        Config.SetWord(PciRegisters.SubsystemId, I440fxHostBridgeFunction.QemuSubsystem);
        for (int register = DeviceSpecificStart; register < PciConfigSpace.Size; register++)
        {
            Config.MakeWritable(register, 1, 0xFF);
        }

        // INTA, as on QEMU's PIIX4: the pin is the SCI, hard-wired to IRQ 9 (SeaBIOS writes 9 into the interrupt line and
        // the DSDT's _PRT names LNKS for it), so no PIRQ wire is behind it.
        Config.SetByte(PciRegisters.InterruptPin, PciRegisters.InterruptPinA);
        Config.MakeWritable(PmBaseRegister, 4, PmBaseMask);
        Config.SetByte(PmBaseRegister, 0x01);
        Config.SetByte(DevActBRegister + 3, ApmcEnabled);
    }

    /// <summary>The 64-port PM I/O block, for the port bus at <see cref="PmBlockBase"/> while it decodes.</summary>
    public IBusDevice PmBlock { get; }

    /// <summary>GPE0's status and enable bytes, for the port bus at <see cref="Gpe0Port"/>.</summary>
    public IBusDevice Gpe0Block { get; }

    /// <summary>APM control and status, for the port bus at <see cref="ApmControlPort"/>.</summary>
    public IBusDevice ApmPorts { get; }

    /// <summary>Where the PM I/O block decodes now; null while PMREGMISC has it off.</summary>
    public ushort? PmBlockBase
    {
        get
        {
            Span<byte> bytes = stackalloc byte[4];
            ReadConfig(PmBaseRegister, bytes);
            ushort pmBase = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(bytes) & PmBaseMask);
            ReadConfig(PmRegMiscRegister, bytes[..1]);
            return (bytes[0] & PmIoEnable) != 0 ? pmBase : null;
        }
    }

    /// <summary>PMBASE as programmed, whether or not the block decodes (what an FADT built now must name).</summary>
    public ushort PmBase
    {
        get
        {
            Span<byte> bytes = stackalloc byte[2];
            ReadConfig(PmBaseRegister, bytes);
            return (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(bytes) & PmBaseMask);
        }
    }

    protected override void OnConfigWritten(int offset, int length)
    {
        if (!Overlaps(offset, offset + length, PmBaseRegister, 2) && !Overlaps(offset, offset + length, PmRegMiscRegister, 1))
        {
            return;
        }

        ushort? block = (Config.ReadByte(PmRegMiscRegister) & PmIoEnable) != 0
            ? (ushort)(Config.ReadWord(PmBaseRegister) & PmBaseMask)
            : null;
        if (block != _pmBlock)
        {
            _pmBlock = block;
            _pmBlockMoved(block);
        }
    }

    protected override void OnBarRead(int barIndex, ulong offset, Span<byte> data) => data.Clear();

    protected override void OnBarWritten(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
    }
}
