namespace Platform.Engine.Vnc;

/// <summary>
/// X11 keysyms (what a plain RFB KeyEvent carries) to the set-1 scancode of the key that types them on a US
/// keyboard. Shifted symbols map to their key ('A' and 'a' are both 0x1E, '!' is the 1 key): clients send Shift
/// as its own key event, so the guest sees what the user pressed. Viewers that know the physical key use QEMU's
/// extended key event instead and bypass this table.
/// </summary>
internal static class KeysymTranslator
{
    /// <summary>0x00–0xFF: Latin-1 keysyms (printable ASCII here).</summary>
    private static readonly ushort[] Latin1 = BuildLatin1();

    /// <summary>0xFF00–0xFFFF: function, cursor, keypad and modifier keysyms.</summary>
    private static readonly ushort[] Functions = BuildFunctions();

    /// <summary>The scancode (0x01–0x7F, or 0xE0xx for an extended key) for <paramref name="keysym"/>; 0 if unknown.</summary>
    public static int ToScancode(uint keysym) => keysym switch
    {
        < 0x100 => Latin1[keysym],
        >= 0xFF00 and <= 0xFFFF => Functions[keysym - 0xFF00],
        0xFE03 => 0xE038,   // ISO_Level3_Shift (AltGr): right Alt
        0xFE20 => 0x0F,     // ISO_Left_Tab: Tab (the client sends Shift too)
        _ => 0,
    };

    private static ushort[] BuildLatin1()
    {
        var map = new ushort[256];
        void Key(string characters, int scancode)
        {
            foreach (char c in characters)
            {
                map[c] = (ushort)scancode;
            }
        }

        Key("1!", 0x02);
        Key("2@", 0x03);
        Key("3#", 0x04);
        Key("4$", 0x05);
        Key("5%", 0x06);
        Key("6^", 0x07);
        Key("7&", 0x08);
        Key("8*", 0x09);
        Key("9(", 0x0A);
        Key("0)", 0x0B);
        Key("-_", 0x0C);
        Key("=+", 0x0D);
        Key("qQ", 0x10);
        Key("wW", 0x11);
        Key("eE", 0x12);
        Key("rR", 0x13);
        Key("tT", 0x14);
        Key("yY", 0x15);
        Key("uU", 0x16);
        Key("iI", 0x17);
        Key("oO", 0x18);
        Key("pP", 0x19);
        Key("[{", 0x1A);
        Key("]}", 0x1B);
        Key("aA", 0x1E);
        Key("sS", 0x1F);
        Key("dD", 0x20);
        Key("fF", 0x21);
        Key("gG", 0x22);
        Key("hH", 0x23);
        Key("jJ", 0x24);
        Key("kK", 0x25);
        Key("lL", 0x26);
        Key(";:", 0x27);
        Key("'\"", 0x28);
        Key("`~", 0x29);
        Key("\\|", 0x2B);
        Key("zZ", 0x2C);
        Key("xX", 0x2D);
        Key("cC", 0x2E);
        Key("vV", 0x2F);
        Key("bB", 0x30);
        Key("nN", 0x31);
        Key("mM", 0x32);
        Key(",<", 0x33);
        Key(".>", 0x34);
        Key("/?", 0x35);
        Key(" ", 0x39);
        return map;
    }

    private static ushort[] BuildFunctions()
    {
        var map = new ushort[256];
        void Key(int keysym, int scancode) => map[keysym - 0xFF00] = (ushort)scancode;

        Key(0xFF08, 0x0E);   // BackSpace
        Key(0xFF09, 0x0F);   // Tab
        Key(0xFF0D, 0x1C);   // Return
        Key(0xFF13, 0xE046); // Pause
        Key(0xFF14, 0x46);   // Scroll_Lock
        Key(0xFF15, 0x54);   // Sys_Req
        Key(0xFF1B, 0x01);   // Escape
        Key(0xFF50, 0xE047); // Home
        Key(0xFF51, 0xE04B); // Left
        Key(0xFF52, 0xE048); // Up
        Key(0xFF53, 0xE04D); // Right
        Key(0xFF54, 0xE050); // Down
        Key(0xFF55, 0xE049); // Prior (Page Up)
        Key(0xFF56, 0xE051); // Next (Page Down)
        Key(0xFF57, 0xE04F); // End
        Key(0xFF61, 0xE037); // Print
        Key(0xFF63, 0xE052); // Insert
        Key(0xFF67, 0xE05D); // Menu
        Key(0xFF7E, 0xE038); // Mode_switch: right Alt
        Key(0xFF7F, 0x45);   // Num_Lock
        Key(0xFF8D, 0xE01C); // KP_Enter
        Key(0xFF95, 0x47);   // KP_Home
        Key(0xFF96, 0x4B);   // KP_Left
        Key(0xFF97, 0x48);   // KP_Up
        Key(0xFF98, 0x4D);   // KP_Right
        Key(0xFF99, 0x50);   // KP_Down
        Key(0xFF9A, 0x49);   // KP_Prior
        Key(0xFF9B, 0x51);   // KP_Next
        Key(0xFF9C, 0x4F);   // KP_End
        Key(0xFF9D, 0x4C);   // KP_Begin
        Key(0xFF9E, 0x52);   // KP_Insert
        Key(0xFF9F, 0x53);   // KP_Delete
        Key(0xFFAA, 0x37);   // KP_Multiply
        Key(0xFFAB, 0x4E);   // KP_Add
        Key(0xFFAC, 0x53);   // KP_Separator
        Key(0xFFAD, 0x4A);   // KP_Subtract
        Key(0xFFAE, 0x53);   // KP_Decimal
        Key(0xFFAF, 0xE035); // KP_Divide
        ReadOnlySpan<byte> keypadDigits = [0x52, 0x4F, 0x50, 0x51, 0x4B, 0x4C, 0x4D, 0x47, 0x48, 0x49];
        for (int digit = 0; digit < 10; digit++)
        {
            Key(0xFFB0 + digit, keypadDigits[digit]);
        }

        for (int f = 0; f < 10; f++)
        {
            Key(0xFFBE + f, 0x3B + f); // F1–F10
        }

        Key(0xFFC8, 0x57);   // F11
        Key(0xFFC9, 0x58);   // F12
        Key(0xFFE1, 0x2A);   // Shift_L
        Key(0xFFE2, 0x36);   // Shift_R
        Key(0xFFE3, 0x1D);   // Control_L
        Key(0xFFE4, 0xE01D); // Control_R
        Key(0xFFE5, 0x3A);   // Caps_Lock
        Key(0xFFE7, 0xE05B); // Meta_L: the Windows key, as X maps it on PCs
        Key(0xFFE8, 0xE05C); // Meta_R
        Key(0xFFE9, 0x38);   // Alt_L
        Key(0xFFEA, 0xE038); // Alt_R
        Key(0xFFEB, 0xE05B); // Super_L
        Key(0xFFEC, 0xE05C); // Super_R
        Key(0xFFFF, 0xE053); // Delete
        return map;
    }
}
