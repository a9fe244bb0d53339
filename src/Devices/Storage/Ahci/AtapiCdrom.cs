using System.Text;

namespace Platform.Devices.Storage.Ahci;

/// <summary>
/// An ATAPI DVD/CD-ROM drive on an AHCI port: the ATA commands an ATAPI device answers (IDENTIFY PACKET DEVICE, PACKET,
/// resets) and, through PACKET, the SCSI/MMC commands of <c>AtapiCdrom.Mmc.cs</c>. Its medium is an <see cref="IsoImage"/>
/// the host inserts and ejects while the guest runs; the guest hears of it through UNIT ATTENTION and GET EVENT STATUS
/// NOTIFICATION, as from a real drive.
/// </summary>
/// <remarks>The medium is guarded by its own lock: the host's insert and eject come from the control thread, commands
/// from the vCPU thread that holds the HBA's lock (taken first).</remarks>
public sealed partial class AtapiCdrom : IAtaDevice, IDisposable
{
    public const byte PacketCommand = 0xA0;
    public const byte IdentifyPacketDevice = 0xA1;
    public const byte IdentifyDevice = 0xEC;
    public const byte DeviceReset = 0x08;
    public const byte SetFeatures = 0xEF;
    public const byte CheckPowerMode = 0xE5;
    public const byte IdleImmediate = 0xE1;
    public const byte StandbyImmediate = 0xE0;
    public const byte ExecuteDeviceDiagnostic = 0x90;

    /// <summary>Count 0x01, LBA 0x01, LBA mid/high 0x14/0xEB: the ATAPI signature (ATA8-ACS, table 184).</summary>
    public const uint AtapiSignature = 0xEB14_0101;

    /// <summary>ATAPI's interrupt reason at a command's end: I/O and C/D set (the count register).</summary>
    private const ushort InterruptReasonDone = 0x03;

    public const string Model = "Platform DVD-ROM";
    public const string FirmwareRevision = "1.0";

    private readonly Lock _lock = new();
    private readonly string _serial;
    private IsoImage? _medium;
    private bool _locked;
    private bool _unitAttention;
    private MediaEvent _pendingEvent;
    private Sense _sense;

    /// <param name="medium">The inserted image, or null for an empty drive; the drive owns it from now on.</param>
    public AtapiCdrom(IsoImage? medium, string serial = "PLATFORM-CD0")
    {
        _medium = medium;
        _serial = serial;
    }

    public uint Signature => AtapiSignature;

    /// <summary>The image in the drive, or null.</summary>
    public string? MediumPath
    {
        get
        {
            lock (_lock)
            {
                return _medium?.Path;
            }
        }
    }

    /// <summary>Whether the guest has locked the tray (PREVENT ALLOW MEDIUM REMOVAL).</summary>
    public bool Locked
    {
        get
        {
            lock (_lock)
            {
                return _locked;
            }
        }
    }

    public long SectorsRead { get; private set; }

    public long PacketCommands { get; private set; }

    public long FailedPacketCommands { get; private set; }

    /// <summary>
    /// The host puts <paramref name="medium"/> in the drive (replacing and closing any other): the guest's next command
    /// sees UNIT ATTENTION, and GESN reports new media, as after a user closed the tray on a disc.
    /// </summary>
    public void Insert(IsoImage medium)
    {
        ArgumentNullException.ThrowIfNull(medium);
        IsoImage? old;
        lock (_lock)
        {
            old = _medium;
            _medium = medium;
            _unitAttention = true;
            _pendingEvent = MediaEvent.NewMedia;
        }

        old?.Dispose();
    }

    /// <summary>
    /// The host takes the medium out. Refused (false) while the guest has locked the tray, unless <paramref name="force"/>,
    /// as QEMU's eject; true when the drive is empty afterwards.
    /// </summary>
    public bool Eject(bool force)
    {
        IsoImage? old;
        lock (_lock)
        {
            if (_locked && !force)
            {
                _pendingEvent = MediaEvent.EjectRequest; // the guest may answer by unlocking and ejecting itself
                return false;
            }

            old = _medium;
            _medium = null;
            _locked = false;
            if (old is not null)
            {
                _pendingEvent = MediaEvent.MediaRemoval;
            }
        }

        old?.Dispose();
        return true;
    }

    /// <summary>
    /// Takes the disc out as the machine powers off, without closing it or telling the guest (there is none any more), so
    /// the next boot's drive can hold the same open image (<see cref="Load"/>): a disc survives a reboot as it does in a
    /// real drive, even one whose file the VMM could not open again (a descriptor passed in, a file the jail cannot reach).
    /// </summary>
    /// <returns>The image, now the caller's; null when the drive was empty.</returns>
    public IsoImage? TakeMedium()
    {
        lock (_lock)
        {
            var medium = _medium;
            _medium = null;
            return medium;
        }
    }

    /// <summary>
    /// Puts <paramref name="medium"/> in an empty drive before the guest runs, as a disc that was there at power-on: no
    /// UNIT ATTENTION, no media event (<see cref="Insert"/> is the change a running guest sees). The drive owns it.
    /// </summary>
    public void Load(IsoImage medium)
    {
        ArgumentNullException.ThrowIfNull(medium);
        lock (_lock)
        {
            if (_medium is not null)
            {
                throw new InvalidOperationException("The drive already holds a disc; Load is for an empty drive at power-on.");
            }

            _medium = medium;
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            _locked = false;
            _sense = default;
        }
    }

    public AtaResult Execute(in AtaCommand command, ReadOnlySpan<byte> packet, AtaTransferBuffer buffer)
    {
        switch (command.Command)
        {
            case PacketCommand:
                return Packet(packet, buffer);
            case IdentifyPacketDevice:
                if (!buffer.TryReserve(512, out var data))
                {
                    return AtaResult.Aborted();
                }

                Identify(data);
                return AtaResult.Ok(AtaProtocol.PioIn, 512);
            case DeviceReset:
            case ExecuteDeviceDiagnostic:
                Reset();
                return new AtaResult(AtaResult.StatusOk, 1, AtaProtocol.NonData, 0, (ushort)(AtapiSignature & 0xFF), AtapiSignature >> 8);
            case SetFeatures:
            case IdleImmediate:
            case StandbyImmediate:
                return AtaResult.Ok();
            case CheckPowerMode:
                return AtaResult.Ok(count: 0xFF); // active or idle
            default:
                // IDENTIFY DEVICE and every ATA command an ATAPI device lacks: ABRT with the signature in the registers,
                // which is how a driver learns the device wants PACKET (ATA8-ACS 7.12.2).
                return AtaResult.Aborted((ushort)(AtapiSignature & 0xFF), AtapiSignature >> 8);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _medium?.Dispose();
            _medium = null;
        }
    }

    /// <summary>IDENTIFY PACKET DEVICE's 256 words, as QEMU's ide-cd answers (ATAPI, CD-ROM, removable, DMA and LBA).</summary>
    private void Identify(Span<byte> data)
    {
        Span<ushort> words = stackalloc ushort[256];
        words.Clear();
        words[0] = (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5); // ATAPI, CD-ROM, removable, DRQ in 50 µs, 12-byte packets
        PutString(words, 10, 20, _serial);
        PutString(words, 23, 8, FirmwareRevision);
        PutString(words, 27, 40, Model);
        words[49] = (1 << 9) | (1 << 8); // LBA, DMA
        words[53] = 7;                   // words 54-58, 64-70 and 88 are valid
        words[62] = 7;
        words[63] = 7;                   // multiword DMA 0-2
        words[64] = 3;                   // PIO 3 and 4
        words[65] = words[66] = words[67] = words[68] = 0xB4;
        words[71] = 30;
        words[72] = 30;
        words[80] = 0x1E;                // ATA/ATAPI-1 to -4
        words[82] = 1 << 4;              // the PACKET feature set
        words[83] = 1 << 14;
        words[84] = 1 << 14;
        words[85] = 1 << 4;
        words[87] = 1 << 14;
        words[88] = 0x3F | (1 << 13);    // UDMA 0-5, UDMA 5 selected
        for (int i = 0; i < words.Length; i++)
        {
            data[2 * i] = (byte)words[i];
            data[(2 * i) + 1] = (byte)(words[i] >> 8);
        }
    }

    /// <summary>An ATA string: space-padded, two characters a word with the first in the high byte.</summary>
    internal static void PutString(Span<ushort> words, int first, int length, string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text.PadRight(length)[..length]);
        for (int i = 0; i < length; i += 2)
        {
            words[first + (i / 2)] = (ushort)((bytes[i] << 8) | bytes[i + 1]);
        }
    }

    private AtaResult Packet(ReadOnlySpan<byte> cdb, AtaTransferBuffer buffer)
    {
        int length;
        lock (_lock)
        {
            PacketCommands++;
            length = RunScsi(cdb, buffer);
            if (length < 0)
            {
                FailedPacketCommands++;
                return new AtaResult(AtaResult.StatusReady | AtaResult.StatusError, (byte)(_sense.Key << 4), AtaProtocol.NonData, 0,
                    InterruptReasonDone);
            }
        }

        return new AtaResult(AtaResult.StatusOk, 0, length > 0 ? AtaProtocol.DmaIn : AtaProtocol.NonData, length, InterruptReasonDone);
    }

    private enum MediaEvent : byte
    {
        None = 0,
        EjectRequest = 1,
        NewMedia = 2,
        MediaRemoval = 3,
    }

    /// <summary>The sense data REQUEST SENSE returns: key, additional sense code and qualifier (SPC-4, 4.5).</summary>
    private readonly record struct Sense(byte Key, byte Asc, byte Ascq);
}
