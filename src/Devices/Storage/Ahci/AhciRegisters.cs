namespace Platform.Devices.Storage.Ahci;

/// <summary>
/// Offsets and bits of the AHCI 1.3 register set (Serial ATA AHCI 1.3.1, chapter 3) and of the structures the HBA reads
/// and writes in guest memory (chapter 4): the names Linux's <c>ahci.h</c> and SeaBIOS's <c>ahci.h</c> use.
/// </summary>
public static class AhciRegisters
{
    // Generic host control (ABAR + offset).
    public const int HostCapabilities = 0x00;
    public const int GlobalHostControl = 0x04;
    public const int InterruptStatus = 0x08;
    public const int PortsImplemented = 0x0C;
    public const int VersionRegister = 0x10;
    public const int CommandCompletionControl = 0x14;
    public const int CommandCompletionPorts = 0x18;
    public const int EnclosureLocation = 0x1C;
    public const int EnclosureControl = 0x20;
    public const int HostCapabilitiesExtended = 0x24;
    public const int BiosHandoff = 0x28;

    public const int PortBase = 0x100;
    public const int PortStride = 0x80;

    public const uint CapS64A = 1u << 31; // 64-bit addressing
    public const uint CapSncq = 1u << 30; // native command queuing
    public const uint CapSss = 1u << 27;  // staggered spin-up
    public const uint CapSam = 1u << 18;  // AHCI only: GHC.AE reads 1
    public const int CapIssShift = 20;    // interface speed: 1 = Gen 1 (1.5 Gb/s)
    public const int CapNcsShift = 8;     // command slots - 1

    public const uint GhcHr = 1u << 0;    // HBA reset
    public const uint GhcIe = 1u << 1;    // interrupt enable
    public const uint GhcAe = 1u << 31;   // AHCI enable

    /// <summary>AHCI 1.0, the version QEMU's ICH9 AHCI reports.</summary>
    public const uint Version10 = 0x0001_0000;

    // Port registers (port base + offset).
    public const int PxClb = 0x00;
    public const int PxClbu = 0x04;
    public const int PxFb = 0x08;
    public const int PxFbu = 0x0C;
    public const int PxIs = 0x10;
    public const int PxIe = 0x14;
    public const int PxCmd = 0x18;
    public const int PxTfd = 0x20;
    public const int PxSig = 0x24;
    public const int PxSsts = 0x28;
    public const int PxSctl = 0x2C;
    public const int PxSerr = 0x30;
    public const int PxSact = 0x34;
    public const int PxCi = 0x38;
    public const int PxSntf = 0x3C;

    public const uint CmdSt = 1u << 0;
    public const uint CmdSud = 1u << 1;
    public const uint CmdPod = 1u << 2;
    public const uint CmdClo = 1u << 3;
    public const uint CmdFre = 1u << 4;
    public const uint CmdFr = 1u << 14;
    public const uint CmdCr = 1u << 15;
    public const uint CmdAtapi = 1u << 24;
    public const uint CmdIccMask = 0xFu << 28;

    /// <summary>The PxCMD bits software writes and reads back (FR, CR and CCS are the HBA's).</summary>
    public const uint CmdWritable = CmdSt | CmdSud | CmdPod | CmdFre | CmdAtapi | (1u << 25) | (1u << 26) | (1u << 27);

    // PxIS / PxIE bits.
    public const uint IsDhrs = 1u << 0;  // a D2H register FIS arrived
    public const uint IsPss = 1u << 1;   // a PIO setup FIS arrived
    public const uint IsDss = 1u << 2;
    public const uint IsSdbs = 1u << 3;
    public const uint IsUfs = 1u << 4;
    public const uint IsDps = 1u << 5;
    public const uint IsPcs = 1u << 6;
    public const uint IsOfs = 1u << 24;  // overflow: the PRDT does not hold the command's data
    public const uint IsPrcs = 1u << 22;
    public const uint IsIfs = 1u << 27;  // interface fatal: a FIS the HBA could not make sense of
    public const uint IsHbds = 1u << 28; // host bus data error: a PRD pointed outside RAM
    public const uint IsHbfs = 1u << 29; // host bus fatal error: the command list or table is outside RAM
    public const uint IsTfes = 1u << 30; // task file error: the device ended the command with ERR
    public const uint IsValid = 0xFDC0_00FFu;

    /// <summary>PxSSTS with a device: DET 3 (present, phy up), SPD 1 (Gen 1), IPM 1 (active).</summary>
    public const uint SstsDeviceUp = 0x113;

    public const uint SctlDetMask = 0xF;

    /// <summary>PxSERR.DIAG.X: the device sent its first D2H FIS after a reset (Linux clears it).</summary>
    public const uint SerrDiagX = 1u << 26;

    // Command header (32 bytes per slot in the command list).
    public const int CommandHeaderSize = 32;
    public const int CommandSlots = 32;
    public const uint HeaderCflMask = 0x1F;
    public const uint HeaderAtapi = 1u << 5;
    public const uint HeaderWrite = 1u << 6;
    public const int HeaderPrdtlShift = 16;

    // Command table.
    public const int TableCommandFis = 0x00;
    public const int TableAtapiCommand = 0x40;
    public const int TablePrdt = 0x80;
    public const int PrdEntrySize = 16;
    public const uint PrdByteCountMask = 0x3F_FFFF;

    // Received FIS area.
    public const int RxPioSetup = 0x20;
    public const int RxD2hRegister = 0x40;
    public const int RxSetDeviceBits = 0x58;

    // FIS types.
    public const byte FisRegisterH2D = 0x27;
    public const byte FisRegisterD2H = 0x34;
    public const byte FisPioSetup = 0x5F;
    public const byte FisSetDeviceBits = 0xA1;
    public const byte FisCommandBit = 0x80;
    public const byte FisInterruptBit = 0x40;
    public const byte FisDeviceToHostBit = 0x20;
    public const byte ControlSrst = 0x04;
}
