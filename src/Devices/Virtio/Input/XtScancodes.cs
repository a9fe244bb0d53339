namespace Platform.Devices.Virtio.Input;

/// <summary>
/// Set-1 (XT) scancodes — what the VNC server hands a keyboard: 0x01–0x7F, or 0xE001–0xE07F for a key sent with the
/// 0xE0 prefix (QEMU's "qnum" with bit 7 as the prefix) — to Linux key codes (KEY_*) for the virtio keyboard.
/// </summary>
/// <remarks>
/// <para>Linux numbered its key codes after the XT scancodes, so 0x01 (Esc) to 0x53 (keypad .) are the same number;
/// the rest follow the XT column of QEMU's keycodemapdb (the table QEMU and noVNC generate their scancodes from), so
/// a key a noVNC user presses reaches a Linux guest as the same KEY_* whether it goes through QEMU's virtio-keyboard
/// or ours. A scancode that names no key (and 0xE02A/0xE036, the fake shifts real keyboards wrap around some
/// extended keys) has no code: 0.</para>
/// </remarks>
public static class XtScancodes
{
    private static readonly ushort[] Plain = BuildPlain();
    private static readonly ushort[] Extended = BuildExtended();

    /// <summary>Every key code some scancode maps to, ascending: what the keyboard declares in its EV_KEY bitmap.</summary>
    public static IReadOnlyList<ushort> LinuxKeys { get; } = [.. Plain.Concat(Extended).Where(k => k != 0).Distinct().Order()];

    /// <summary>The Linux key code for <paramref name="xtScancode"/>; 0 when it names no key.</summary>
    public static ushort ToLinuxKey(int xtScancode) => xtScancode switch
    {
        >= 0x01 and <= 0x7F => Plain[xtScancode],
        >= 0xE001 and <= 0xE07F => Extended[xtScancode & 0x7F],
        _ => 0,
    };

    private static ushort[] BuildPlain()
    {
        var map = new ushort[0x80];
        for (int code = 0x01; code <= 0x53; code++)
        {
            map[code] = (ushort)code;   // KEY_ESC (1) … KEY_KPDOT (83)
        }

        map[0x54] = 99;    // SysRq (Alt+Print Screen): KEY_SYSRQ
        map[0x56] = 86;    // the key left of Z on ISO keyboards: KEY_102ND
        map[0x57] = 87;    // KEY_F11
        map[0x58] = 88;    // KEY_F12
        map[0x59] = 117;   // KEY_KPEQUAL
        map[0x5C] = 95;    // KEY_KPJPCOMMA
        map[0x5D] = 183;   // KEY_F13
        map[0x5E] = 184;   // KEY_F14
        map[0x5F] = 185;   // KEY_F15
        map[0x55] = 186;   // KEY_F16
        map[0x5A] = 190;   // KEY_F20
        map[0x74] = 191;   // KEY_F21
        map[0x6D] = 193;   // KEY_F23
        map[0x6F] = 194;   // KEY_F24
        map[0x70] = 93;    // KEY_KATAKANAHIRAGANA
        map[0x73] = 89;    // KEY_RO
        map[0x76] = 85;    // KEY_ZENKAKUHANKAKU
        map[0x77] = 91;    // KEY_HIRAGANA
        map[0x78] = 90;    // KEY_KATAKANA
        map[0x79] = 92;    // KEY_HENKAN
        map[0x7B] = 94;    // KEY_MUHENKAN
        map[0x7D] = 124;   // KEY_YEN
        map[0x7E] = 121;   // KEY_KPCOMMA
        return map;
    }

    private static ushort[] BuildExtended()
    {
        var map = new ushort[0x80];
        map[0x1C] = 96;    // KEY_KPENTER
        map[0x1D] = 97;    // KEY_RIGHTCTRL
        map[0x35] = 98;    // KEY_KPSLASH
        map[0x37] = 99;    // Print Screen: KEY_SYSRQ, as Linux's atkbd reports it
        map[0x38] = 100;   // KEY_RIGHTALT (AltGr)
        map[0x46] = 119;   // Pause (Ctrl+Break's code, which the VNC server uses for Pause): KEY_PAUSE
        map[0x47] = 102;   // KEY_HOME
        map[0x48] = 103;   // KEY_UP
        map[0x49] = 104;   // KEY_PAGEUP
        map[0x4B] = 105;   // KEY_LEFT
        map[0x4D] = 106;   // KEY_RIGHT
        map[0x4F] = 107;   // KEY_END
        map[0x50] = 108;   // KEY_DOWN
        map[0x51] = 109;   // KEY_PAGEDOWN
        map[0x52] = 110;   // KEY_INSERT
        map[0x53] = 111;   // KEY_DELETE
        map[0x5B] = 125;   // KEY_LEFTMETA (Windows key)
        map[0x5C] = 126;   // KEY_RIGHTMETA
        map[0x5D] = 127;   // Menu: KEY_COMPOSE
        map[0x5E] = 116;   // KEY_POWER
        map[0x5F] = 142;   // KEY_SLEEP
        map[0x63] = 143;   // KEY_WAKEUP
        map[0x0D] = 123;   // KEY_HANJA
        map[0x03] = 187;   // KEY_F17
        map[0x77] = 188;   // KEY_F18
        map[0x04] = 189;   // KEY_F19
        map[0x79] = 192;   // KEY_F22

        // Multimedia keys.
        map[0x10] = 165;   // KEY_PREVIOUSSONG
        map[0x19] = 163;   // KEY_NEXTSONG
        map[0x20] = 113;   // KEY_MUTE
        map[0x21] = 140;   // KEY_CALC
        map[0x22] = 164;   // KEY_PLAYPAUSE
        map[0x24] = 166;   // KEY_STOPCD
        map[0x2E] = 114;   // KEY_VOLUMEDOWN
        map[0x30] = 115;   // KEY_VOLUMEUP
        map[0x32] = 172;   // KEY_HOMEPAGE
        map[0x65] = 217;   // KEY_SEARCH
        map[0x66] = 156;   // KEY_BOOKMARKS
        map[0x67] = 173;   // KEY_REFRESH
        map[0x68] = 128;   // KEY_STOP
        map[0x69] = 159;   // KEY_FORWARD
        map[0x6A] = 158;   // KEY_BACK
        map[0x6B] = 157;   // KEY_COMPUTER
        map[0x6C] = 155;   // KEY_MAIL
        map[0x6D] = 226;   // KEY_MEDIA
        return map;
    }
}
