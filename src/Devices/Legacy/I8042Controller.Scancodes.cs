namespace Platform.Devices.Legacy;

// Scancode tables, written from the public set-1 / set-2 tables (IBM PS/2 technical reference; Andries Brouwer's
// "Keyboard scancodes"). Extended keys use the same table for the byte after E0: E0 48 (Up) is E0 75 in set 2
// because 48 (keypad 8) is 75 — which is why one 128-entry table covers every key.
public sealed partial class I8042Controller
{
    /// <summary>Set-1 make code (the index) → set-2 make code.</summary>
    internal static ReadOnlySpan<byte> Set1ToSet2 =>
    [
        // 00 —  Esc   1     2     3     4     5     6
        0x00, 0x76, 0x16, 0x1E, 0x26, 0x25, 0x2E, 0x36,
        // 7     8     9     0     -     =    Bksp  Tab
        0x3D, 0x3E, 0x46, 0x45, 0x4E, 0x55, 0x66, 0x0D,
        // Q     W     E     R     T     Y     U     I
        0x15, 0x1D, 0x24, 0x2D, 0x2C, 0x35, 0x3C, 0x43,
        // O     P     [     ]   Enter LCtrl   A     S
        0x44, 0x4D, 0x54, 0x5B, 0x5A, 0x14, 0x1C, 0x1B,
        // D     F     G     H     J     K     L     ;
        0x23, 0x2B, 0x34, 0x33, 0x3B, 0x42, 0x4B, 0x4C,
        // '     `  LShift   \     Z     X     C     V
        0x52, 0x0E, 0x12, 0x5D, 0x1A, 0x22, 0x21, 0x2A,
        // B     N     M     ,     .     /  RShift  KP*  (E0 37: Print Screen)
        0x32, 0x31, 0x3A, 0x41, 0x49, 0x4A, 0x59, 0x7C,
        // LAlt Space Caps   F1    F2    F3    F4    F5
        0x11, 0x29, 0x58, 0x05, 0x06, 0x04, 0x0C, 0x03,
        // F6    F7    F8    F9   F10  NumLk ScrLk  KP7  (E0 47: Home)
        0x0B, 0x83, 0x0A, 0x01, 0x09, 0x77, 0x7E, 0x6C,
        // KP8   KP9   KP-   KP4   KP5   KP6   KP+   KP1  (E0 48 Up, 49 PgUp, 4B Left, 4D Right, 4F End)
        0x75, 0x7D, 0x7B, 0x6B, 0x73, 0x74, 0x79, 0x69,
        // KP2   KP3   KP0   KP. SysRq   —   102nd  F11  (E0 50 Down, 51 PgDn, 52 Ins, 53 Del)
        0x72, 0x7A, 0x70, 0x71, 0x84, 0x60, 0x61, 0x78,
        // F12   KP=   —     —     —     —     —     —   (E0 5B LWin, 5C RWin, 5D Menu, 5E Power, 5F Sleep)
        0x07, 0x0F, 0x17, 0x1F, 0x27, 0x2F, 0x37, 0x3F,
        // —     —     —     —    F13   F14   F15   F16  (E0 63: Wake)
        0x47, 0x4F, 0x56, 0x5E, 0x08, 0x10, 0x18, 0x20,
        // F17   F18   F19   F20   F21   F22   F23   —
        0x28, 0x30, 0x38, 0x40, 0x48, 0x50, 0x57, 0x6F,
        // Kana  —     —     Ro    —     —    F24    —
        0x13, 0x19, 0x39, 0x51, 0x53, 0x5C, 0x5F, 0x62,
        // —  Henkan   — Muhenkan  —    Yen  KP,    —
        0x63, 0x64, 0x65, 0x67, 0x68, 0x6A, 0x6D, 0x6E,
    ];

    /// <summary>
    /// The 8042's translation table: a byte from the keyboard (set 2) → the byte the guest reads (set 1). It is the
    /// inverse of <see cref="Set1ToSet2"/>, plus what the hardware does with the codes no key sends: 00 (keyboard
    /// error) becomes FF, and 02 and 7F alias F7 (41) and SysRq (54); from 80 up bytes pass unchanged except 83
    /// (F7) and 84 (SysRq), whose set-2 codes do not fit in seven bits.
    /// </summary>
    internal static readonly byte[] Set2ToSet1 = BuildTranslationTable();

    private static byte[] BuildTranslationTable()
    {
        var table = new byte[256];
        for (int i = 0x80; i < 256; i++)
        {
            table[i] = (byte)i;
        }

        ReadOnlySpan<byte> set1ToSet2 = Set1ToSet2;
        for (int set1 = 1; set1 < 0x80; set1++)
        {
            table[set1ToSet2[set1]] = (byte)set1;
        }

        table[0x00] = 0xFF;
        table[0x02] = 0x41;
        table[0x7F] = 0x54;
        return table;
    }
}
