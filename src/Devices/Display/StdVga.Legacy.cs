using Platform.Devices.Abstractions;

namespace Platform.Devices.Display;

// The legacy window 0xA0000-0xBFFFF and VGA's planar memory model, as vgabios-stdvga drives it and QEMU's vga.c
// models it: video memory seen as 32-bit words whose four bytes are planes 0-3 (plane p of word w at byte 4w + p), the
// same memory the VBE modes use. Chain-4 maps byte addresses straight through; odd/even (text) sends even addresses to
// planes 0/2 and odd ones to 1/3; otherwise every access goes to one word of all four planes through the latches,
// with the write modes, rotate, set/reset, logical function, bit mask and map mask of the graphics controller.
public sealed partial class StdVga
{
    /// <summary>Where the legacy window starts in guest physical memory, and its size (to 0xBFFFF).</summary>
    public const ulong LegacyWindowBase = 0xA0000;
    public const ulong LegacyWindowSize = 0x20000;

    /// <summary>How much of video memory the legacy window can reach: 64 Ki words of four planes.</summary>
    public const int LegacyMemorySize = 256 * 1024;

    // Sequencer registers and bits (port 0x3C4/0x3C5).
    internal const int SeqClockingMode = 0x01;
    internal const int SeqMapMask = 0x02;
    internal const int SeqCharacterMap = 0x03;
    internal const int SeqMemoryMode = 0x04;
    internal const byte SeqMemoryChain4 = 0x08;

    // Graphics controller registers and bits (port 0x3CE/0x3CF).
    internal const int GfxSetReset = 0x00;
    internal const int GfxEnableSetReset = 0x01;
    internal const int GfxColorCompare = 0x02;
    internal const int GfxDataRotate = 0x03;
    internal const int GfxReadMapSelect = 0x04;
    internal const int GfxMode = 0x05;
    internal const int GfxMisc = 0x06;
    internal const int GfxColorDontCare = 0x07;
    internal const int GfxBitMask = 0x08;
    internal const byte GfxModeReadCompare = 0x08;
    internal const byte GfxModeHostOddEven = 0x10;
    internal const byte GfxMiscGraphics = 0x01;

    private const int LegacyPages = LegacyMemorySize / 4096;

    private uint _latch;
    private long _legacyChanges;
    private ulong _legacyDirtyPages; // one bit per 4 KiB page of the first 256 KiB, written through the window

    /// <summary>The legacy window (0xA0000–0xBFFFF, <see cref="LegacyWindowSize"/> bytes) as the machine maps it.</summary>
    public IBusDevice LegacyWindow { get; private set; } = null!;

    /// <summary>
    /// Counts every write through the legacy window and every VGA register write, so a display can tell in one read
    /// that nothing it draws from changed.
    /// </summary>
    public long LegacyChanges => Interlocked.Read(ref _legacyChanges);

    /// <summary>Window accesses the selected memory map does not decode (read as 0xFF, writes dropped), as on a VGA.</summary>
    public long UnmappedWindowAccesses { get; private set; }

    /// <summary>
    /// Hands over (and clears) which 4 KiB pages of video memory the legacy window wrote since the last call: bit n is
    /// page n of the first 256 KiB, the only part the window reaches.
    /// </summary>
    public ulong TakeLegacyDirtyPages()
    {
        lock (_lock)
        {
            ulong pages = _legacyDirtyPages;
            _legacyDirtyPages = 0;
            return pages;
        }
    }

    /// <summary>Copies what a legacy display is drawn from into <paramref name="state"/>, consistently, under the lock.</summary>
    public void CaptureLegacyState(LegacyVgaState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_lock)
        {
            state.Changes = _legacyChanges;
            state.VbeEnabled = VbeEnabled;
            state.VideoOn = (_attributeIndex & AttributeVideoOn) != 0;
            state.MiscOutput = _miscOutput;
            _sequencer.CopyTo(state.Sequencer, 0);
            _graphics.CopyTo(state.Graphics, 0);
            _crtc.CopyTo(state.Crtc, 0);
            _attributes.CopyTo(state.Attributes, 0);
            if (state.PaletteVersion != _paletteVersion)
            {
                for (int i = 0; i < PaletteEntries; i++)
                {
                    uint r = Widen(_palette[i * 3]), g = Widen(_palette[(i * 3) + 1]), b = Widen(_palette[(i * 3) + 2]);
                    state.Palette[i] = (r << 16) | (g << 8) | b;
                }

                state.PaletteVersion = _paletteVersion;
            }
        }
    }

    private void ResetLegacyState()
    {
        _latch = 0;
        _legacyDirtyPages = ulong.MaxValue;
        _legacyChanges++;
    }

    private void ReadLegacyWindow(ulong offset, Span<byte> data)
    {
        lock (_lock)
        {
            if (data.Length is not (1 or 2 or 4 or 8) || offset > LegacyWindowSize - (ulong)data.Length)
            {
                CountBadAccess();
                data.Fill(0xFF);
                return;
            }

            // Wider accesses are bytes in ascending order, as QEMU's memory core splits them for the 1-byte VGA ops.
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = ReadLegacyByte((int)offset + i);
            }
        }
    }

    private void WriteLegacyWindow(ulong offset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            if (data.Length is not (1 or 2 or 4 or 8) || offset > LegacyWindowSize - (ulong)data.Length)
            {
                CountBadAccess();
                return;
            }

            for (int i = 0; i < data.Length; i++)
            {
                WriteLegacyByte((int)offset + i, data[i]);
            }

            _legacyChanges++;
        }
    }

    /// <summary>The window offset as an address in the selected memory map (graphics register 6, bits 2–3); -1 outside it.</summary>
    private int MapWindowAddress(int offset)
    {
        switch ((_graphics[GfxMisc] >> 2) & 3)
        {
            case 0:
                return offset;                                   // 0xA0000, 128 KiB
            case 1:
                // 0xA0000, 64 KiB, moved by the VBE bank register for banked VBE modes, as in QEMU.
                return offset < 0x10000 ? offset + (_registers[IndexBank] << 16) : -1;
            case 2:
                return offset is >= 0x10000 and < 0x18000 ? offset - 0x10000 : -1; // 0xB0000, 32 KiB
            default:
                return offset >= 0x18000 ? offset - 0x18000 : -1;                   // 0xB8000, 32 KiB
        }
    }

    private bool Chain4 => (_sequencer[SeqMemoryMode] & SeqMemoryChain4) != 0;

    private bool HostOddEven => (_graphics[GfxMode] & GfxModeHostOddEven) != 0;

    private byte ReadLegacyByte(int offset)
    {
        int address = MapWindowAddress(offset);
        Span<byte> memory = _videoMemory.Span;
        if (address < 0)
        {
            UnmappedWindowAccesses++;
            return 0xFF;
        }

        if (Chain4)
        {
            return address < memory.Length ? memory[address] : (byte)0xFF;
        }

        if (HostOddEven)
        {
            int plane = (_graphics[GfxReadMapSelect] & 2) | (address & 1);
            int at = ((address & ~1) << 1) | plane;
            return at < memory.Length ? memory[at] : (byte)0xFF;
        }

        if ((address * 4) + 3 >= memory.Length)
        {
            return 0xFF;
        }

        _latch = BitConverter.ToUInt32(memory.Slice(address * 4, 4));
        if ((_graphics[GfxMode] & GfxModeReadCompare) == 0)
        {
            return (byte)(_latch >> (8 * (_graphics[GfxReadMapSelect] & 3)));
        }

        // Read mode 1: a bit is set where every plane that matters equals the colour compare value.
        uint differs = (_latch ^ ExpandPlanes(_graphics[GfxColorCompare])) & ExpandPlanes(_graphics[GfxColorDontCare]);
        differs |= differs >> 16;
        differs |= differs >> 8;
        return (byte)~differs;
    }

    private void WriteLegacyByte(int offset, byte value)
    {
        int address = MapWindowAddress(offset);
        Span<byte> memory = _videoMemory.Span;
        if (address < 0)
        {
            UnmappedWindowAccesses++;
            return;
        }

        byte mapMask = _sequencer[SeqMapMask];
        if (Chain4)
        {
            if ((mapMask & (1 << (address & 3))) != 0 && address < memory.Length)
            {
                memory[address] = value;
                MarkLegacyDirty(address);
            }

            return;
        }

        if (HostOddEven)
        {
            int plane = (_graphics[GfxReadMapSelect] & 2) | (address & 1);
            int at = ((address & ~1) << 1) | plane;
            if ((mapMask & (1 << plane)) != 0 && at < memory.Length)
            {
                memory[at] = value;
                MarkLegacyDirty(at);
            }

            return;
        }

        if ((address * 4) + 3 >= memory.Length)
        {
            return;
        }

        uint written = PlanarWriteValue(value);
        uint planes = ExpandPlanes(mapMask);
        Span<byte> word = memory.Slice(address * 4, 4);
        uint old = BitConverter.ToUInt32(word);
        BitConverter.TryWriteBytes(word, (old & ~planes) | (written & planes));
        MarkLegacyDirty(address * 4);
    }

    /// <summary>What a planar write puts in the four planes before the map mask: write modes 0–3 over the latches.</summary>
    private uint PlanarWriteValue(byte value)
    {
        byte rotate = (byte)(_graphics[GfxDataRotate] & 7);
        uint bitMask;
        uint planes;
        switch (_graphics[GfxMode] & 3)
        {
            case 1:
                return _latch; // the latches as they are: a fast copy inside video memory
            case 2:
                planes = ExpandPlanes((byte)(value & 0x0F));
                bitMask = _graphics[GfxBitMask];
                break;
            case 3:
                bitMask = (uint)(_graphics[GfxBitMask] & RotateRight(value, rotate));
                planes = ExpandPlanes(_graphics[GfxSetReset]);
                break;
            default:
                uint rotated = RotateRight(value, rotate) * 0x01010101u;
                uint setResetPlanes = ExpandPlanes(_graphics[GfxEnableSetReset]);
                planes = (rotated & ~setResetPlanes) | (ExpandPlanes(_graphics[GfxSetReset]) & setResetPlanes);
                bitMask = _graphics[GfxBitMask];
                break;
        }

        planes = (_graphics[GfxDataRotate] >> 3 & 3) switch
        {
            1 => planes & _latch,
            2 => planes | _latch,
            3 => planes ^ _latch,
            _ => planes,
        };
        bitMask *= 0x01010101u;
        return (planes & bitMask) | (_latch & ~bitMask);
    }

    private static byte RotateRight(byte value, int bits) => (byte)((value >> bits) | (value << (8 - bits)));

    /// <summary>Four plane bits to four plane bytes: bit p set gives 0xFF in byte p.</summary>
    private static uint ExpandPlanes(byte bits) =>
        ((bits & 1) != 0 ? 0xFFu : 0) | ((bits & 2) != 0 ? 0xFF00u : 0) | ((bits & 4) != 0 ? 0xFF0000u : 0) | ((bits & 8) != 0 ? 0xFF000000u : 0);

    private void MarkLegacyDirty(int byteAddress)
    {
        if (byteAddress < LegacyMemorySize)
        {
            _legacyDirtyPages |= 1UL << (byteAddress >> 12);
        }
    }

    private sealed class LegacyWindowView(StdVga vga) : IBusDevice
    {
        public void Read(ulong offset, Span<byte> data) => vga.ReadLegacyWindow(offset, data);

        public void Write(ulong offset, ReadOnlySpan<byte> data) => vga.WriteLegacyWindow(offset, data);
    }
}
