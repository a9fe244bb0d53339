using System.Buffers.Binary;

namespace Platform.Devices.Storage.Ahci;

/// <summary>
/// The SCSI/MMC commands a CD-ROM drive answers, those SeaBIOS's <c>cdrom.c</c>/<c>blockcmd.c</c> and Linux's
/// <c>sr</c>/<c>cdrom</c> drivers send (SPC-4, MMC-6; QEMU's <c>hw/ide/atapi.c</c> answers the same set).
/// </summary>
public sealed partial class AtapiCdrom
{
    public const byte TestUnitReady = 0x00;
    public const byte RequestSense = 0x03;
    public const byte Inquiry = 0x12;
    public const byte ModeSense6 = 0x1A;
    public const byte StartStopUnit = 0x1B;
    public const byte PreventAllowMediumRemoval = 0x1E;
    public const byte ReadCapacity = 0x25;
    public const byte Read10 = 0x28;
    public const byte Seek10 = 0x2B;
    public const byte ReadToc = 0x43;
    public const byte GetConfiguration = 0x46;
    public const byte GetEventStatusNotification = 0x4A;
    public const byte ModeSense10 = 0x5A;
    public const byte Read12 = 0xA8;
    public const byte SetCdSpeed = 0xBB;

    public const byte SenseNotReady = 0x02;
    public const byte SenseIllegalRequest = 0x05;
    public const byte SenseUnitAttention = 0x06;

    private const ushort ProfileDvdRom = 0x0010;
    private const ushort ProfileCdRom = 0x0008;

    /// <summary>A CD holds at most about 800 MB; a bigger image is presented as a DVD (QEMU's rule).</summary>
    private const long CdMaxSectors = 360_000;

    /// <summary>Runs one command under the medium lock: the data length (0 for none), or -1 with <see cref="_sense"/> set.</summary>
    private int RunScsi(ReadOnlySpan<byte> cdb, AtaTransferBuffer buffer)
    {
        byte opcode = cdb[0];
        // These report nothing pending and never a unit attention (SPC-4 5.x, MMC-6 6.x); all others see it once.
        bool passesAttention = opcode is Inquiry or RequestSense or GetEventStatusNotification or GetConfiguration;
        if (!passesAttention && _unitAttention)
        {
            _unitAttention = false;
            return Error(SenseUnitAttention, 0x28, 0x00); // not ready to ready change, medium may have changed
        }

        if (opcode != RequestSense)
        {
            _sense = default;
        }

        return opcode switch
        {
            TestUnitReady => _medium is null ? NoMedium() : 0,
            RequestSense => RequestSenseData(cdb, buffer),
            Inquiry => InquiryData(cdb, buffer),
            ModeSense6 or ModeSense10 => ModeSenseData(cdb, buffer),
            StartStopUnit => StartStop(cdb),
            PreventAllowMediumRemoval => PreventAllow(cdb),
            ReadCapacity => _medium is null ? NoMedium() : Capacity(buffer),
            Read10 => ReadSectors(BinaryPrimitives.ReadUInt32BigEndian(cdb[2..]), BinaryPrimitives.ReadUInt16BigEndian(cdb[7..]), buffer),
            Read12 => ReadSectors(BinaryPrimitives.ReadUInt32BigEndian(cdb[2..]), BinaryPrimitives.ReadUInt32BigEndian(cdb[6..]), buffer),
            Seek10 => _medium is null ? NoMedium() : 0,
            ReadToc => _medium is null ? NoMedium() : Toc(cdb, buffer),
            GetConfiguration => Configuration(cdb, buffer),
            GetEventStatusNotification => EventStatus(cdb, buffer),
            SetCdSpeed => 0,
            _ => Error(SenseIllegalRequest, 0x20, 0x00), // invalid command operation code
        };
    }

    private int Error(byte key, byte asc, byte ascq)
    {
        _sense = new Sense(key, asc, ascq);
        return -1;
    }

    private int NoMedium() => Error(SenseNotReady, 0x3A, 0x00);

    private int InvalidField() => Error(SenseIllegalRequest, 0x24, 0x00);

    /// <summary>Reserves the reply and fills it; the guest gets at most its allocation length of it.</summary>
    private static int Reply(AtaTransferBuffer buffer, int length, int allocation, out Span<byte> data)
    {
        buffer.TryReserve(length, out data); // replies here are small, far under the buffer's limit
        return Math.Min(length, allocation);
    }

    private int RequestSenseData(ReadOnlySpan<byte> cdb, AtaTransferBuffer buffer)
    {
        int length = Reply(buffer, 18, cdb[4], out var data);
        data[0] = 0x70; // current, fixed format
        data[2] = _sense.Key;
        data[7] = 10;
        data[12] = _sense.Asc;
        data[13] = _sense.Ascq;
        _sense = default;
        return length;
    }

    private int InquiryData(ReadOnlySpan<byte> cdb, AtaTransferBuffer buffer)
    {
        if ((cdb[1] & 1) != 0)
        {
            return InvalidField(); // no vital product data pages
        }

        int length = Reply(buffer, 36, BinaryPrimitives.ReadUInt16BigEndian(cdb[3..]), out var data);
        data[0] = 0x05; // CD/DVD device
        data[1] = 0x80; // removable
        data[3] = 0x21; // ATAPI, response data format 1
        data[4] = 31;   // additional length
        Padded("PLATFORM", 8).CopyTo(data[8..]);
        Padded(Model, 16).CopyTo(data[16..]);
        Padded(FirmwareRevision, 4).CopyTo(data[32..]);
        return length;
    }

    private static byte[] Padded(string text, int length) => System.Text.Encoding.ASCII.GetBytes(text.PadRight(length)[..length]);

    private int ModeSenseData(ReadOnlySpan<byte> cdb, AtaTransferBuffer buffer)
    {
        bool ten = cdb[0] == ModeSense10;
        int pageControl = cdb[2] >> 6;
        int page = cdb[2] & 0x3F;
        if (pageControl == 3)
        {
            return Error(SenseIllegalRequest, 0x39, 0x00); // saving parameters not supported
        }

        if (page is not (0x01 or 0x2A or 0x3F))
        {
            return InvalidField();
        }

        int header = ten ? 8 : 4;
        int total = header + (page is 0x01 or 0x3F ? 8 : 0) + (page is 0x2A or 0x3F ? 20 : 0);
        int allocation = ten ? BinaryPrimitives.ReadUInt16BigEndian(cdb[7..]) : cdb[4];
        int length = Reply(buffer, total, allocation, out var data);
        if (ten)
        {
            BinaryPrimitives.WriteUInt16BigEndian(data, (ushort)(total - 2));
        }
        else
        {
            data[0] = (byte)(total - 1);
        }

        bool changeable = pageControl == 1; // no field can be changed: the page comes back all zeros
        int at = header;
        if (page is 0x01 or 0x3F)
        {
            data[at] = 0x01; // read error recovery
            data[at + 1] = 6;
            data[at + 3] = changeable ? (byte)0 : (byte)5; // read retry count
            at += 8;
        }

        if (page is 0x2A or 0x3F)
        {
            data[at] = 0x2A; // capabilities and mechanical status
            data[at + 1] = 18;
            if (!changeable)
            {
                data[at + 2] = 0x3B; // reads CD-R, CD-RW, method 2, DVD-ROM...
                data[at + 4] = 0x71; // audio play, composite, digital ports, multi-session
                data[at + 5] = 0x60; // CD-DA commands, stream accurate
                data[at + 6] = (byte)(0x01 | 0x08 | 0x20 | (_locked ? 0x02 : 0)); // lock, eject, tray loader
                BinaryPrimitives.WriteUInt16BigEndian(data[(at + 8)..], 706);  // maximum speed, kB/s
                BinaryPrimitives.WriteUInt16BigEndian(data[(at + 10)..], 2);   // volume levels
                BinaryPrimitives.WriteUInt16BigEndian(data[(at + 12)..], 512); // buffer, KiB
                BinaryPrimitives.WriteUInt16BigEndian(data[(at + 14)..], 706); // current speed
            }
        }

        return length;
    }

    private int StartStop(ReadOnlySpan<byte> cdb)
    {
        bool loadEject = (cdb[4] & 2) != 0, start = (cdb[4] & 1) != 0;
        if (!loadEject || start)
        {
            return 0; // spin up/down or close the tray: nothing to do
        }

        if (_locked)
        {
            return Error(SenseIllegalRequest, 0x53, 0x02); // medium removal prevented
        }

        if (_medium is not null)
        {
            _medium.Dispose();
            _medium = null;
            _pendingEvent = MediaEvent.MediaRemoval;
        }

        return 0;
    }

    private int PreventAllow(ReadOnlySpan<byte> cdb)
    {
        _locked = (cdb[4] & 1) != 0;
        return 0;
    }

    private int Capacity(AtaTransferBuffer buffer)
    {
        int length = Reply(buffer, 8, 8, out var data);
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)(_medium!.Sectors - 1));
        BinaryPrimitives.WriteUInt32BigEndian(data[4..], IsoImage.SectorSize);
        return length;
    }

    private int ReadSectors(uint lba, uint count, AtaTransferBuffer buffer)
    {
        if (_medium is null)
        {
            return NoMedium();
        }

        if (lba + (ulong)count > (ulong)_medium.Sectors)
        {
            return Error(SenseIllegalRequest, 0x21, 0x00); // logical block address out of range
        }

        if ((ulong)count * IsoImage.SectorSize > AtaTransferBuffer.MaxLength ||
            !buffer.TryReserve((int)count * IsoImage.SectorSize, out var data))
        {
            return InvalidField();
        }

        if (!_medium.TryRead(lba, data))
        {
            return Error(0x03, 0x11, 0x00); // medium error, unrecovered read error
        }

        SectorsRead += count;
        return data.Length;
    }

    /// <summary>READ TOC/PMA/ATIP formats 0 (the TOC: track 1 and the lead-out) and 1 (session information).</summary>
    private int Toc(ReadOnlySpan<byte> cdb, AtaTransferBuffer buffer)
    {
        bool msf = (cdb[1] & 2) != 0;
        int format = cdb[2] & 0x0F;
        if (format == 0 && (cdb[9] >> 6) != 0)
        {
            format = cdb[9] >> 6; // the older (SFF-8020) place for the format
        }

        int allocation = BinaryPrimitives.ReadUInt16BigEndian(cdb[7..]);
        uint leadOut = (uint)_medium!.Sectors;
        switch (format)
        {
            case 0:
            {
                int startTrack = cdb[6];
                if (startTrack > 1 && startTrack != 0xAA)
                {
                    return InvalidField();
                }

                int tracks = startTrack == 0xAA ? 1 : 2;
                int total = 4 + (8 * tracks);
                int length = Reply(buffer, total, allocation, out var data);
                BinaryPrimitives.WriteUInt16BigEndian(data, (ushort)(total - 2));
                data[2] = 1;
                data[3] = 1;
                int at = 4;
                if (tracks == 2)
                {
                    TrackDescriptor(data[at..], 1, 0, msf);
                    at += 8;
                }

                TrackDescriptor(data[at..], 0xAA, leadOut, msf);
                return length;
            }

            case 1:
            {
                int length = Reply(buffer, 12, allocation, out var data);
                BinaryPrimitives.WriteUInt16BigEndian(data, 10);
                data[2] = 1;
                data[3] = 1;
                TrackDescriptor(data[4..], 1, 0, msf);
                return length;
            }

            default:
                return InvalidField();
        }
    }

    private static void TrackDescriptor(Span<byte> descriptor, byte track, uint lba, bool msf)
    {
        descriptor[1] = 0x14; // ADR 1, data track
        descriptor[2] = track;
        if (msf)
        {
            uint frames = lba + 150;
            descriptor[5] = (byte)(frames / (75 * 60));
            descriptor[6] = (byte)(frames / 75 % 60);
            descriptor[7] = (byte)(frames % 75);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(descriptor[4..], lba);
        }
    }

    /// <summary>GET CONFIGURATION: the profile list (DVD-ROM, CD-ROM), the core and the removable-medium features.</summary>
    private int Configuration(ReadOnlySpan<byte> cdb, AtaTransferBuffer buffer)
    {
        int requestType = cdb[1] & 3;
        int startFeature = BinaryPrimitives.ReadUInt16BigEndian(cdb[2..]);
        int allocation = BinaryPrimitives.ReadUInt16BigEndian(cdb[7..]);
        if (requestType == 3)
        {
            return InvalidField();
        }

        ushort current = _medium is null ? (ushort)0 : _medium.Sectors > CdMaxSectors ? ProfileDvdRom : ProfileCdRom;
        Span<byte> reply = stackalloc byte[64];
        reply.Clear();
        int at = 8;
        bool Wanted(int feature) => requestType == 2 ? feature == startFeature : feature >= startFeature;
        if (Wanted(0x0000))
        {
            reply[at + 2] = 0x03; // persistent, current
            reply[at + 3] = 8;
            BinaryPrimitives.WriteUInt16BigEndian(reply[(at + 4)..], ProfileDvdRom);
            reply[at + 6] = current == ProfileDvdRom ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteUInt16BigEndian(reply[(at + 8)..], ProfileCdRom);
            reply[at + 10] = current == ProfileCdRom ? (byte)1 : (byte)0;
            at += 12;
        }

        if (Wanted(0x0001))
        {
            BinaryPrimitives.WriteUInt16BigEndian(reply[at..], 0x0001);
            reply[at + 2] = 0x0B; // version 2, persistent, current
            reply[at + 3] = 8;
            BinaryPrimitives.WriteUInt32BigEndian(reply[(at + 4)..], 2); // physical interface: ATAPI
            reply[at + 8] = 1;    // DBE
            at += 12;
        }

        if (Wanted(0x0003))
        {
            BinaryPrimitives.WriteUInt16BigEndian(reply[at..], 0x0003);
            reply[at + 2] = 0x03;
            reply[at + 3] = 4;
            reply[at + 4] = (byte)(0x29 | (_locked ? 0x01 : 0)); // tray loader, eject, lock
            at += 8;
        }

        BinaryPrimitives.WriteUInt32BigEndian(reply, (uint)(at - 4));
        BinaryPrimitives.WriteUInt16BigEndian(reply[6..], current);
        int length = Reply(buffer, at, allocation, out var data);
        reply[..at].CopyTo(data);
        return length;
    }

    /// <summary>GET EVENT STATUS NOTIFICATION, polled: the media class only, each event reported once.</summary>
    private int EventStatus(ReadOnlySpan<byte> cdb, AtaTransferBuffer buffer)
    {
        if ((cdb[1] & 1) == 0)
        {
            return InvalidField(); // asynchronous notification is not offered
        }

        const byte MediaClass = 1 << 4;
        int allocation = BinaryPrimitives.ReadUInt16BigEndian(cdb[7..]);
        if ((cdb[4] & MediaClass) == 0)
        {
            int none = Reply(buffer, 4, allocation, out var header);
            BinaryPrimitives.WriteUInt16BigEndian(header, 2);
            header[2] = 0x80; // no event available
            header[3] = MediaClass;
            return none;
        }

        int length = Reply(buffer, 8, allocation, out var data);
        BinaryPrimitives.WriteUInt16BigEndian(data, 6);
        data[2] = 4; // media class
        data[3] = MediaClass;
        data[4] = (byte)_pendingEvent;
        data[5] = (byte)(_medium is null ? 0x01 : 0x02); // tray open without a medium; medium present
        _pendingEvent = MediaEvent.None;
        return length;
    }
}
