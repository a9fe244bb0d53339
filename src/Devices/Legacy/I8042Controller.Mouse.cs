namespace Platform.Devices.Legacy;

// A minimal PS/2 mouse on the aux port: it answers the commands a driver probes with (Linux's psmouse finds a
// plain "PS/2 Generic Mouse") and never moves. Pointer input goes through virtio-input's tablet instead.
public sealed partial class I8042Controller
{
    private const byte DefaultSampleRate = 100;
    private const byte DefaultResolution = 2;   // 4 counts/mm
    private const byte MouseStatusRemote = 0b0100_0000;
    private const byte MouseStatusReporting = 0b0010_0000;
    private const byte MouseStatusScaling21 = 0b0001_0000;
    private const byte MousePacketAlwaysOne = 0b0000_1000; // bit 3 of a movement packet's first byte

    private const byte AuxSetScaling11 = 0xE6;
    private const byte AuxSetScaling21 = 0xE7;
    private const byte AuxSetStreamMode = 0xEA;
    private const byte AuxResetWrapMode = 0xEC;
    private const byte AuxSetWrapMode = 0xEE;
    private const byte AuxSetRemoteMode = 0xF0;

    private readonly Queue<byte> _mouseQueue = new(DeviceQueueSize);

    private byte _mouseAwaiting;   // a mouse command waiting for its parameter byte; 0 if none
    private byte _mouseStatus;     // remote, reporting and scaling bits as the 0xE9 status byte has them
    private byte _mouseSampleRate;
    private byte _mouseResolution;
    private byte _mouseLastSent;

    private void WriteMouse(byte value)
    {
        byte awaiting = _mouseAwaiting;
        _mouseAwaiting = 0;
        switch (awaiting)
        {
            case AuxSetResolution:
                _mouseResolution = (byte)(value & 0x03);
                ReplyFromMouse(ReplyAck);
                return;
            case AuxSetSampleRate:
                _mouseSampleRate = value;
                ReplyFromMouse(ReplyAck);
                return;
        }

        switch (value)
        {
            case AuxSetResolution:
            case AuxSetSampleRate:
                _mouseAwaiting = value;
                ReplyFromMouse(ReplyAck);
                break;
            case AuxSetScaling11:
                _mouseStatus &= unchecked((byte)~MouseStatusScaling21);
                ReplyFromMouse(ReplyAck);
                break;
            case AuxSetScaling21:
                _mouseStatus |= MouseStatusScaling21;
                ReplyFromMouse(ReplyAck);
                break;
            case AuxStatusRequest:
                ReplyFromMouse(ReplyAck);
                ReplyFromMouse(_mouseStatus);
                ReplyFromMouse(_mouseResolution);
                ReplyFromMouse(_mouseSampleRate);
                break;
            case AuxSetStreamMode:
                _mouseStatus &= unchecked((byte)~MouseStatusRemote);
                ReplyFromMouse(ReplyAck);
                break;
            case AuxSetRemoteMode:
                _mouseStatus |= MouseStatusRemote;
                ReplyFromMouse(ReplyAck);
                break;
            case AuxReadData:
                // A packet with no buttons and no movement: this mouse never moves.
                ReplyFromMouse(ReplyAck);
                ReplyFromMouse(MousePacketAlwaysOne);
                ReplyFromMouse(0);
                ReplyFromMouse(0);
                break;
            case AuxResetWrapMode:
            case AuxSetWrapMode:
                // Wrap (echo) mode is not emulated; nothing probes with it.
                ReplyFromMouse(ReplyAck);
                break;
            case AuxGetId:
                ReplyFromMouse(ReplyAck);
                ReplyFromMouse(AuxStandardMouseId);
                break;
            case AuxEnableReporting:
                _mouseStatus |= MouseStatusReporting;
                ReplyFromMouse(ReplyAck);
                break;
            case AuxDisableReporting:
                _mouseStatus &= unchecked((byte)~MouseStatusReporting);
                ReplyFromMouse(ReplyAck);
                break;
            case AuxSetDefaults:
                MouseDefaults();
                ReplyFromMouse(ReplyAck);
                break;
            case AuxResend:
                ReplyFromMouse(_mouseLastSent);
                break;
            case AuxReset:
                _mouseQueue.Clear();
                MouseDefaults();
                ReplyFromMouse(ReplyAck);
                ReplyFromMouse(ReplySelfTestPassed);
                ReplyFromMouse(AuxStandardMouseId);
                break;
            default:
                ReplyFromMouse(ReplyResend);
                break;
        }
    }

    private void ReplyFromMouse(byte value)
    {
        if (_mouseQueue.Count >= DeviceQueueSize)
        {
            DroppedBytes++;
            return;
        }

        _mouseQueue.Enqueue(value);
    }

    private bool TryTakeMouseByte(out byte value)
    {
        if (!_mouseQueue.TryDequeue(out value))
        {
            return false;
        }

        _mouseLastSent = value;
        return true;
    }

    private void MouseDefaults()
    {
        _mouseStatus = 0;
        _mouseSampleRate = DefaultSampleRate;
        _mouseResolution = DefaultResolution;
        _mouseAwaiting = 0;
    }

    private void ResetMouse()
    {
        _mouseQueue.Clear();
        MouseDefaults();
        _mouseLastSent = 0;
    }
}
