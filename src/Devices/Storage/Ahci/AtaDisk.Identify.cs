namespace Platform.Devices.Storage.Ahci;

/// <summary>
/// IDENTIFY DEVICE's 256 words (ATA8-ACS 7.16), shaped after what QEMU's IDE/AHCI disks report so guests treat ours
/// the same way: LBA48 with the capacity in words 60-61 and 100-103, NCQ with 32 tags, a write cache, FLUSH CACHE
/// (EXT), and TRIM only when the backend can discard.
/// </summary>
public sealed partial class AtaDisk
{
    /// <summary>The largest 28-bit capacity (words 60-61): bigger disks report this and their size in words 100-103.</summary>
    public const ulong MaxLba28Sectors = 0x0FFF_FFFF;

    private const int LegacyHeads = 16;
    private const int LegacySectorsPerTrack = 63;
    private const int MaxLegacyCylinders = 16383;

    private void Identify(Span<byte> data)
    {
        Span<ushort> words = stackalloc ushort[256];
        words.Clear();
        ulong sectors = SectorCount;
        int cylinders = (int)Math.Min(sectors / (LegacyHeads * LegacySectorsPerTrack), MaxLegacyCylinders);
        ulong chsSectors = (ulong)cylinders * LegacyHeads * LegacySectorsPerTrack;
        ulong lba28 = Math.Min(sectors, MaxLba28Sectors);

        words[0] = 0x0040;                    // a fixed (non-removable) ATA device
        words[1] = (ushort)cylinders;         // the legacy CHS geometry BIOSes and old systems still read
        words[3] = LegacyHeads;
        words[6] = LegacySectorsPerTrack;
        AtapiCdrom.PutString(words, 10, 20, _serial);
        words[20] = 3;                        // buffer type, size and ECC bytes: QEMU's historic values
        words[21] = 512;
        words[22] = 4;
        AtapiCdrom.PutString(words, 23, 8, FirmwareRevision);
        AtapiCdrom.PutString(words, 27, 40, Model);
        words[47] = 0x8000 | MaxMultipleSectors;
        words[48] = 1;
        words[49] = (1 << 11) | (1 << 9) | (1 << 8); // IORDY, LBA, DMA
        words[51] = 0x200;
        words[52] = 0x200;
        words[53] = 1 | (1 << 1) | (1 << 2);  // words 54-58, 64-70 and 88 are valid
        words[54] = (ushort)cylinders;
        words[55] = LegacyHeads;
        words[56] = LegacySectorsPerTrack;
        words[57] = (ushort)chsSectors;
        words[58] = (ushort)(chsSectors >> 16);
        words[59] = (ushort)(_multipleSectors == 0 ? 0 : 0x100 | _multipleSectors);
        words[60] = (ushort)lba28;
        words[61] = (ushort)(lba28 >> 16);
        words[62] = 0x07;                     // single-word DMA 0-2
        words[63] = 0x07;                     // multiword DMA 0-2
        words[64] = 0x03;                     // PIO 3 and 4
        words[65] = words[66] = words[67] = words[68] = 120;
        words[69] = (ushort)(SupportsTrim ? 1 << 14 : 0); // deterministic data after TRIM
        words[75] = QueueDepth - 1;
        words[76] = (1 << 8) | (1 << 1);     // NCQ; SATA Gen 1 signalling, as PxSSTS reports
        words[80] = 0xF0;                     // ATA/ATAPI-4 to -7
        words[81] = 0x16;
        words[82] = (1 << 14) | (1 << 5);     // NOP, write cache
        words[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10); // FLUSH CACHE EXT, FLUSH CACHE, LBA48
        words[84] = (1 << 14) | (1 << 6);     // WRITE DMA FUA EXT
        words[85] = (ushort)((1 << 14) | (_writeCache ? 1 << 5 : 0));
        words[86] = (1 << 13) | (1 << 12) | (1 << 10);
        words[87] = (1 << 14) | (1 << 6);
        words[88] = 0x3F | (1 << 13);         // UDMA 0-5, UDMA 5 selected
        words[93] = 1 | (1 << 14) | 0x2000;   // hardware reset result: device 0 passed, 80-conductor cable
        words[100] = (ushort)sectors;
        words[101] = (ushort)(sectors >> 16);
        words[102] = (ushort)(sectors >> 32);
        words[103] = (ushort)(sectors >> 48);
        words[105] = (ushort)(SupportsTrim ? MaxTrimBlocks : 0);
        words[106] = 1 << 14;                 // word valid: one 512-byte logical sector per physical sector
        words[169] = (ushort)(SupportsTrim ? 1 : 0); // DATA SET MANAGEMENT with TRIM
        words[217] = 1;                       // a non-rotating medium: no seek cost to schedule around
        for (int i = 0; i < words.Length; i++)
        {
            data[2 * i] = (byte)words[i];
            data[(2 * i) + 1] = (byte)(words[i] >> 8);
        }
    }
}
