namespace Platform.Devices.Legacy;

// Register offsets and bits, named as in the National Semiconductor PC16550D data sheet.
public sealed partial class Uart16550
{
    private const int RbrThrOffset = 0;
    private const int IerOffset = 1;
    private const int IirFcrOffset = 2;
    private const int LcrOffset = 3;
    private const int McrOffset = 4;
    private const int LsrOffset = 5;
    private const int MsrOffset = 6;

    private const byte IerReceiveData = 0b0000_0001;
    private const byte IerThrEmpty = 0b0000_0010;
    private const byte IerLineStatus = 0b0000_0100;
    private const byte IerModemStatus = 0b0000_1000;

    private const byte IirNoInterrupt = 0x01;
    private const byte IirModemStatus = 0x00;
    private const byte IirThrEmpty = 0x02;
    private const byte IirReceiveData = 0x04;
    private const byte IirLineStatus = 0x06;
    private const byte IirCharacterTimeout = 0x0C;
    private const byte IirFifoEnabled = 0xC0;

    private const byte FcrEnable = 0b0000_0001;
    private const byte FcrClearReceive = 0b0000_0010;
    private const byte FcrTriggerMask = 0b1100_0000;

    private const byte LcrDivisorLatch = 0b1000_0000;

    private const byte McrDataTerminalReady = 0b0000_0001;
    private const byte McrRequestToSend = 0b0000_0010;
    private const byte McrOut1 = 0b0000_0100;
    private const byte McrOut2 = 0b0000_1000;
    private const byte McrLoopback = 0b0001_0000;

    private const byte LsrDataReady = 0b0000_0001;
    private const byte LsrOverrun = 0b0000_0010;
    private const byte LsrThrEmpty = 0b0010_0000;
    private const byte LsrTransmitterEmpty = 0b0100_0000;

    private const byte MsrDeltaRing = 0b0000_0100;
    private const byte MsrClearToSend = 0b0001_0000;
    private const byte MsrDataSetReady = 0b0010_0000;
    private const byte MsrRing = 0b0100_0000;
    private const byte MsrCarrierDetect = 0b1000_0000;
}
