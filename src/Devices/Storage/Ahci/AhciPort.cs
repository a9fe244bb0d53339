using static Platform.Devices.Storage.Ahci.AhciRegisters;

namespace Platform.Devices.Storage.Ahci;

/// <summary>
/// One AHCI port: its registers (AHCI 1.3.1, 3.3) and the device behind it. The HBA's lock serializes every call, so
/// the port keeps no lock of its own. Commands run when the guest sets a bit in PxCI (<see cref="AhciPort.Commands"/>).
/// </summary>
public sealed partial class AhciPort
{
    private readonly IGuestMemoryAccess _memory;
    private readonly Action _interruptChanged;
    private readonly AtaTransferBuffer _buffer = new();
    private ulong _commandList;
    private ulong _fisArea;
    private uint _interruptStatus;
    private uint _interruptEnable;
    private uint _command;
    private uint _taskFile;
    private uint _signature;
    private uint _sataStatus;
    private uint _sataControl;
    private uint _sataError;
    private uint _commandsIssued;
    private uint _commandsActive;
    private bool _initialFisSent;

    internal AhciPort(int number, IAtaDevice? device, IGuestMemoryAccess memory, Action interruptChanged)
    {
        Number = number;
        Device = device;
        _memory = memory;
        _interruptChanged = interruptChanged;
        Reset();
    }

    public int Number { get; }

    public IAtaDevice? Device { get; }

    /// <summary>PxIS &amp; PxIE: the port asks the HBA for an interrupt.</summary>
    public bool InterruptPending => (_interruptStatus & _interruptEnable) != 0;

    /// <summary>PxIS &amp; PxIE: the status bits that interrupt now.</summary>
    internal uint EnabledStatus => _interruptStatus & _interruptEnable;

    /// <summary>Commands that ended in an error because of what the guest wrote (bad addresses, FIS or PRDT).</summary>
    public long BadCommands { get; private set; }

    public long CommandsCompleted { get; private set; }

    public long BytesTransferred { get; private set; }

    /// <summary>The port as after power-on or COMRESET: a device announces itself once FIS receive is on.</summary>
    internal void Reset()
    {
        _interruptStatus = 0;
        _interruptEnable = 0;
        _command = CmdSud | CmdPod;
        _sataControl = 0;
        _sataError = 0;
        _commandsIssued = 0;
        _commandsActive = 0;
        _initialFisSent = false;
        _signature = 0xFFFF_FFFF;
        if (Device is null)
        {
            _sataStatus = 0;
            _taskFile = 0x7F;
            return;
        }

        Device.Reset();
        _sataStatus = SstsDeviceUp;
        _taskFile = (1u << 8) | AtaResult.StatusOk; // error 1: diagnostics passed
    }

    internal uint Read(int register) => register switch
    {
        PxClb => (uint)_commandList,
        PxClbu => (uint)(_commandList >> 32),
        PxFb => (uint)_fisArea,
        PxFbu => (uint)(_fisArea >> 32),
        PxIs => _interruptStatus,
        PxIe => _interruptEnable,
        PxCmd => _command,
        PxTfd => _taskFile,
        PxSig => _signature,
        PxSsts => _sataStatus,
        PxSctl => _sataControl,
        PxSerr => _sataError,
        PxSact => _commandsActive,
        PxCi => _commandsIssued,
        _ => 0,
    };

    /// <returns>False for a register the port does not have (the HBA counts it).</returns>
    internal bool Write(int register, uint value)
    {
        switch (register)
        {
            case PxClb:
                _commandList = (_commandList & 0xFFFF_FFFF_0000_0000) | (value & 0xFFFF_FC00);
                break;
            case PxClbu:
                _commandList = (_commandList & 0xFFFF_FFFF) | ((ulong)value << 32);
                break;
            case PxFb:
                _fisArea = (_fisArea & 0xFFFF_FFFF_0000_0000) | (value & 0xFFFF_FF00);
                break;
            case PxFbu:
                _fisArea = (_fisArea & 0xFFFF_FFFF) | ((ulong)value << 32);
                break;
            case PxIs:
                _interruptStatus &= ~value;
                _interruptChanged();
                break;
            case PxIe:
                _interruptEnable = value & IsValid;
                _interruptChanged();
                break;
            case PxCmd:
                WriteCommand(value);
                break;
            case PxSctl:
                WriteSataControl(value);
                break;
            case PxSerr:
                _sataError &= ~value;
                break;
            case PxCi:
                if ((_command & CmdSt) != 0)
                {
                    _commandsIssued |= value;
                    RunIssuedCommands();
                }

                break;
            case PxSact:
                // NCQ: software marks a slot's tag active before issuing it; the Set Device Bits FIS clears it.
                if ((_command & CmdSt) != 0)
                {
                    _commandsActive |= value;
                }

                break;
            case PxSntf:
                break; // no port multiplier, as CAP says
            default:
                return false;
        }

        return true;
    }

    private void WriteCommand(uint value)
    {
        uint running = _command & (CmdFr | CmdCr);
        _command = (value & CmdWritable) | running;
        if ((value & CmdFre) != 0)
        {
            _command |= CmdFr;
            SendInitialFis();
        }
        else
        {
            _command &= ~CmdFr;
        }

        if ((value & CmdSt) != 0)
        {
            _command |= CmdCr;
        }
        else
        {
            // Clearing ST stops the list engine and empties PxCI and PxSACT: SeaBIOS's and Linux's error recovery.
            _command &= ~CmdCr;
            _commandsIssued = 0;
            _commandsActive = 0;
        }

        if ((value & CmdClo) != 0)
        {
            _taskFile &= ~(uint)(AtaResult.StatusBusy | AtaResult.StatusDrq);
        }
    }

    /// <summary>PxSCTL.DET 1 then 0 is a COMRESET: the device resets and sends its signature again.</summary>
    private void WriteSataControl(uint value)
    {
        uint before = _sataControl & SctlDetMask;
        _sataControl = value & 0xFFF;
        uint after = _sataControl & SctlDetMask;
        if (after == 1)
        {
            _sataStatus = 0; // the link is down while the reset is asserted
        }
        else if (before == 1 && after == 0)
        {
            uint command = _command;
            uint enable = _interruptEnable;
            ulong list = _commandList, fis = _fisArea;
            Reset();
            _command = command & ~(CmdCr | CmdSt);
            _interruptEnable = enable;
            _commandList = list;
            _fisArea = fis;
            if (Device is not null)
            {
                _sataError |= SerrDiagX;
                _interruptStatus |= IsPcs;
            }

            SendInitialFis();
            _interruptChanged();
        }
    }

    /// <summary>The device's first D2H FIS after a reset carries its signature (SATA 3.0, 11.4).</summary>
    private void SendInitialFis()
    {
        if (_initialFisSent || Device is null || (_command & CmdFr) == 0)
        {
            return;
        }

        uint sig = Device.Signature;
        _signature = sig;
        var result = new AtaResult(AtaResult.StatusOk, 1, AtaProtocol.NonData, 0, (ushort)(sig & 0xFF), (sig >> 8) & 0xFF_FFFF);
        _initialFisSent = PostD2h(result);
        _taskFile = (1u << 8) | AtaResult.StatusOk;
        if (_initialFisSent)
        {
            _interruptStatus |= IsDhrs;
            _interruptChanged();
        }
    }
}

/// <summary>What a port needs of guest memory, so the port is testable without the PCI function around it.</summary>
internal interface IGuestMemoryAccess
{
    bool TryRead(ulong address, Span<byte> destination);

    bool TryWrite(ulong address, ReadOnlySpan<byte> source);

    /// <summary>Whether bus mastering is on: without it the HBA may not touch memory.</summary>
    bool BusMasterEnabled { get; }
}
