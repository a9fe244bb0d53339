namespace Platform.Devices.Pci;

/// <summary>
/// The i440FX PCI and memory controller at 00:00.0, as QEMU's pc machine has it (8086:1237, revision 2, QEMU's subsystem
/// 1af4:1100): the host bridge firmware looks for. SeaBIOS takes the subsystem IDs as "running on QEMU" (and only then
/// reads fw_cfg), and the device ID as the chipset whose PAM registers (0x59–0x5F) shadow the BIOS.
/// </summary>
/// <remarks>
/// <para>
/// Registers 0x40–0xFF are plain storage the guest may write, as QEMU's are (SMRAM control at 0x72 resets to 0x02 and
/// does nothing here: no SMM). Each PAM register holds two four-bit fields, each governing one segment of
/// 0xC0000–0xFFFFF (<see cref="ShadowRamSegments"/>): 0x59's high field 0xF0000–0xFFFFF, 0x5A's low field 0xC0000,
/// its high field 0xC4000, and so on to 0x5F's high field 0xEC000. Only the two low bits of a field mean anything (read
/// enable, write enable); when they change, <see cref="IShadowRamControl.SetMode"/> remaps the segment. Whatever else
/// the guest writes there is stored and ignored, as on the chip.
/// </para>
/// </remarks>
public sealed class I440fxHostBridgeFunction : PciFunction
{
    public const ushort DeviceId82441 = 0x1237;
    public const ushort QemuSubsystemVendor = 0x1AF4, QemuSubsystem = 0x1100;
    public const int FirstPam = 0x59, PamCount = 7;
    private const int Smram = 0x72;
    private const byte SmramDefault = 0x02;
    private const int DeviceSpecificStart = 0x40;

    private readonly IShadowRamControl _shadow;
    private readonly ShadowRamMode[] _applied = new ShadowRamMode[ShadowRamSegments.Count];

    public I440fxHostBridgeFunction(IShadowRamControl shadow)
        : base(new PciConfigSpace(PciHostBridgeFunction.IntelVendorId, DeviceId82441, PciHostBridgeFunction.HostBridgeClass, revision: 0x02), intx: null)
    {
        _shadow = shadow;
        Config.SetWord(PciRegisters.SubsystemVendorId, QemuSubsystemVendor);
        Config.SetWord(PciRegisters.SubsystemId, QemuSubsystem);
        for (int register = DeviceSpecificStart; register < PciConfigSpace.Size; register++)
        {
            Config.MakeWritable(register, 1, 0xFF);
        }

        Config.SetByte(Smram, SmramDefault);
    }

    /// <summary>Segment <paramref name="segment"/>'s mode as the PAM registers say now.</summary>
    public ShadowRamMode Mode(int segment)
    {
        Span<byte> pam = stackalloc byte[1];
        ReadConfig(PamRegister(segment), pam);
        return DecodeMode(pam[0], segment);
    }

    protected override void OnConfigWritten(int offset, int length)
    {
        if (!Overlaps(offset, offset + length, FirstPam, PamCount))
        {
            return;
        }

        for (int segment = 0; segment < ShadowRamSegments.Count; segment++)
        {
            var mode = DecodeMode(Config.ReadByte(PamRegister(segment)), segment);
            if (mode != _applied[segment])
            {
                _applied[segment] = mode;
                _shadow.SetMode(segment, mode);
            }
        }
    }

    protected override void OnBarRead(int barIndex, ulong offset, Span<byte> data) => data.Clear();

    protected override void OnBarWritten(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
    }

    /// <summary>Segment 0 is in PAM0 (0x59); segments 2k−1 and 2k share PAMk.</summary>
    private static int PamRegister(int segment) => FirstPam + ((segment + 1) / 2);

    /// <summary>Segment 0 is PAM0's high field; an odd segment its register's low field, an even one the high field.</summary>
    private static ShadowRamMode DecodeMode(byte pam, int segment)
    {
        int field = segment % 2 == 1 ? pam & 0x0F : pam >> 4;
        return (ShadowRamMode)(field & 0b11);
    }
}
