namespace Platform.Devices.Legacy;

// Ports, status bits, command-byte bits and command numbers, named as in IBM's PS/2 technical reference and
// Linux's i8042.h; keyboard and mouse commands as in the PS/2 keyboard and mouse interface documents.
public sealed partial class I8042Controller
{
    private const ulong DataOffset = 0;      // port 0x60
    private const ulong StatusCommandOffset = 4; // port 0x64

    private const byte StatusOutputFull = 0b0000_0001;
    private const byte StatusSystemFlag = 0b0000_0100;
    private const byte StatusLastWasCommand = 0b0000_1000;
    private const byte StatusNotLocked = 0b0001_0000;    // keyboard lock switch open
    private const byte StatusAuxOutputFull = 0b0010_0000;

    private const byte CtrKeyboardInterrupt = 0b0000_0001;
    private const byte CtrAuxInterrupt = 0b0000_0010;
    private const byte CtrSystemFlag = 0b0000_0100;
    private const byte CtrKeyboardDisabled = 0b0001_0000;
    private const byte CtrAuxDisabled = 0b0010_0000;
    private const byte CtrTranslate = 0b0100_0000;

    private const byte OutPortResetLine = 0b0000_0001; // active low: 0 holds the CPU in reset
    private const byte OutPortA20 = 0b0000_0010;
    private const byte OutPortKeyboardFull = 0b0001_0000;
    private const byte OutPortAuxFull = 0b0010_0000;
    /// <summary>What firmware leaves in the output port: CPU running, A20 on, the unused lines high (as QEMU).</summary>
    private const byte OutPortDefault = 0xCC | OutPortA20 | OutPortResetLine;

    /// <summary>Input port: keyboard not inhibited by the key lock; the other strap bits read as zero, as QEMU.</summary>
    private const byte InputPortValue = 0x80;

    private const byte CmdReadRamFirst = 0x20;  // 0x20 reads the command byte, 0x21–0x3F the rest of RAM
    private const byte CmdReadRamLast = 0x3F;
    private const byte CmdWriteRamFirst = 0x60; // 0x60 writes the command byte, 0x61–0x7F the rest of RAM
    private const byte CmdWriteRamLast = 0x7F;
    private const byte CmdDisableAux = 0xA7;
    private const byte CmdEnableAux = 0xA8;
    private const byte CmdTestAux = 0xA9;
    private const byte CmdSelfTest = 0xAA;
    private const byte CmdTestKeyboard = 0xAB;
    private const byte CmdDisableKeyboard = 0xAD;
    private const byte CmdEnableKeyboard = 0xAE;
    private const byte CmdReadInputPort = 0xC0;
    private const byte CmdReadOutputPort = 0xD0;
    private const byte CmdWriteOutputPort = 0xD1;
    private const byte CmdWriteKeyboardBuffer = 0xD2;
    private const byte CmdWriteAuxBuffer = 0xD3;
    private const byte CmdWriteAux = 0xD4;
    private const byte CmdDisableA20 = 0xDD;
    private const byte CmdEnableA20 = 0xDF;
    private const byte CmdReadTestInputs = 0xE0;
    private const byte CmdPulseFirst = 0xF0;    // 0xF0–0xFF pulse output-port lines 0–3 low where the bit is 0
    private const byte CmdResetCpu = 0xFE;      // the pulse of line 0 alone: how Linux reboots

    private const byte SelfTestPassed = 0x55;
    private const byte InterfaceTestPassed = 0x00;

    // Bytes a PS/2 device sends back.
    private const byte ReplyAck = 0xFA;
    private const byte ReplyResend = 0xFE;
    private const byte ReplySelfTestPassed = 0xAA;
    private const byte ReplyEcho = 0xEE;

    private const byte KbdSetLeds = 0xED;
    private const byte KbdEcho = 0xEE;
    private const byte KbdScancodeSet = 0xF0;
    private const byte KbdIdentify = 0xF2;
    private const byte KbdTypematic = 0xF3;
    private const byte KbdEnable = 0xF4;
    private const byte KbdDisable = 0xF5;
    private const byte KbdDefaults = 0xF6;
    private const byte KbdSet3AllFirst = 0xF7; // 0xF7–0xFA: set-3 "all keys" key-type commands, no parameter
    private const byte KbdSet3AllLast = 0xFA;
    private const byte KbdResend = 0xFE;
    private const byte KbdReset = 0xFF;
    private const byte KbdIdFirst = 0xAB;
    private const byte KbdIdSecond = 0x83;      // an MF2 keyboard; the controller's translation turns it into 0x41

    private const byte AuxSetResolution = 0xE8;
    private const byte AuxStatusRequest = 0xE9;
    private const byte AuxReadData = 0xEB;
    private const byte AuxGetId = 0xF2;
    private const byte AuxSetSampleRate = 0xF3;
    private const byte AuxEnableReporting = 0xF4;
    private const byte AuxDisableReporting = 0xF5;
    private const byte AuxSetDefaults = 0xF6;
    private const byte AuxResend = 0xFE;
    private const byte AuxReset = 0xFF;
    private const byte AuxStandardMouseId = 0x00;
}
