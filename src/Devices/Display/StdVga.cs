using Platform.Devices.Abstractions;

namespace Platform.Devices.Display;

/// <summary>
/// QEMU's standard VGA ("std-vga", PCI 1234:1111) as far as a guest that draws through the Bochs VBE interface
/// needs it: the DISPI registers (mode, depth, virtual width, panning, video memory size), QEMU's MMIO register BAR,
/// the VGA registers, and the legacy window 0xA0000–0xBFFFF with VGA's planar memory (<see cref="LegacyWindow"/>) as
/// the VGA BIOS drives them; <see cref="LegacyVgaScreen"/> draws the legacy modes.
/// </summary>
/// <remarks>
/// <para>
/// The device is three <see cref="IBusDevice"/> views over one state: <see cref="DispiPorts"/> at ports 0x1CE–0x1D0
/// (index at offset 0, data at offset 1 as x86 guests use it and at offset 2 as QEMU also answers),
/// <see cref="MmioRegisters"/> for PCI BAR 2 (4 KiB: no EDID at 0x000, VGA ports 0x3C0–0x3DF at 0x400, DISPI
/// register n at 0x500 + 2n, QEMU's size/byte-order extension at 0x600), and <see cref="VgaPorts"/> at 0x3C0–0x3DF.
/// Video memory (PCI BAR 0) is not a bus device: the engine maps <see cref="VideoMemory"/> into the guest as its own
/// memory slot, and this class only clears it when a mode is enabled without <c>NOCLEARMEM</c>, as QEMU does.
/// </para>
/// <para>
/// Register semantics follow QEMU's <c>vga.c</c> so Linux's <c>bochs</c> DRM driver, firmware and test guests see
/// the same device under both VMMs: a write the interface cannot signal as an error is adjusted to the nearest
/// valid value (widths to a multiple of 8, the height to what fits in video memory, an unknown depth to 8, panning
/// that would run past the end to 0), counted in <see cref="AdjustedValues"/>, never thrown. Enabling a mode resets
/// the virtual width and panning, as QEMU does. Reads with <c>GETCAPS</c> set return the maximum resolution
/// and depth.
/// </para>
/// <para>
/// Accesses come from vCPU threads and <see cref="Mode"/> is read by the display server, so one lock guards the
/// state. <see cref="ModeChanged"/> is raised after the lock is released, on the thread that changed the mode.
/// No register access allocates.
/// </para>
/// </remarks>
public sealed partial class StdVga
{
    public const ushort PciVendorId = 0x1234;
    public const ushort PciDeviceId = 0x1111;
    /// <summary>Revision 2 tells Linux's bochs driver that the QEMU extension registers exist (it reads them only then).</summary>
    public const byte PciRevision = 2;
    /// <summary>Display controller, VGA-compatible (base class 0x03, subclass 0x00, interface 0x00).</summary>
    public const uint PciClassCode = 0x03_00_00;
    /// <summary>The subsystem ids QEMU gives its own devices (Red Hat / QEMU).</summary>
    public const ushort PciSubsystemVendorId = 0x1AF4;
    public const ushort PciSubsystemId = 0x1100;

    /// <summary>Size of PCI BAR 2, the MMIO register window.</summary>
    public const int MmioBarSize = 0x1000;
    /// <summary>The DISPI ports: index 0x1CE, data 0x1CF (and 0x1D0).</summary>
    public const ushort DispiPortBase = 0x1CE;
    public const ulong DispiPortCount = 3;
    /// <summary>The VGA register ports 0x3C0–0x3DF.</summary>
    public const ushort VgaPortBase = 0x3C0;
    public const ulong VgaPortCount = 0x20;

    /// <summary>QEMU's default (<c>vgamem_mb=16</c>): enough for 2560×1600 at 32 bpp.</summary>
    public const int DefaultVideoMemorySize = 16 * 1024 * 1024;
    public const int MinVideoMemorySize = 1024 * 1024;
    public const int MaxVideoMemorySize = 256 * 1024 * 1024;

    /// <summary>The limits QEMU reports through <c>GETCAPS</c> and clamps to.</summary>
    public const int MaxXResolution = 16000;
    public const int MaxYResolution = 12000;
    public const int MaxBitsPerPixel = 32;

    private static readonly KeyValuePair<string, object?> DeviceTag = new("device", "std-vga");

    private readonly Memory<byte> _videoMemory;
    private readonly Lock _lock = new();
    private readonly ushort[] _registers = new ushort[RegisterCount];

    private ushort _index;
    private int _lineOffset;     // bytes per line of the virtual screen, set when a mode is enabled or changed
    private int _startOffset;    // byte offset of the first visible pixel (QEMU keeps it in 32-bit units)
    private bool _bigEndianFramebuffer;
    private DisplayMode _mode;

    public StdVga()
        : this(new byte[DefaultVideoMemorySize])
    {
    }

    /// <summary>Creates the device over <paramref name="videoMemory"/>, which the engine also maps as PCI BAR 0.</summary>
    /// <exception cref="ArgumentException">The size is not a power of two between 1 MiB and 256 MiB (a PCI BAR
    /// is a power of two, and QEMU's <c>vgamem_mb</c> has the same bounds).</exception>
    public StdVga(Memory<byte> videoMemory)
    {
        int size = videoMemory.Length;
        if (size < MinVideoMemorySize || size > MaxVideoMemorySize || (size & (size - 1)) != 0)
        {
            throw new ArgumentException(
                $"Video memory must be a power of two from 1 MiB to 256 MiB (a PCI BAR size); got {size} bytes.",
                nameof(videoMemory));
        }

        _videoMemory = videoMemory;
        DispiPorts = new DispiPortView(this);
        MmioRegisters = new MmioView(this);
        VgaPorts = new VgaPortView(this);
        LegacyWindow = new LegacyWindowView(this);
        ResetState();
    }

    /// <summary>Raised after a guest access (or <see cref="SetModeAsFirmware"/>, <see cref="Reset"/>) changed <see cref="Mode"/>.</summary>
    /// <remarks>Raised on the vCPU thread that made the change, outside the device lock: handlers must be quick.</remarks>
    public event EventHandler<DisplayMode>? ModeChanged;

    /// <summary>Ports 0x1CE–0x1D0: the DISPI index register at offset 0, the data register at offsets 1 and 2.</summary>
    public IBusDevice DispiPorts { get; }

    /// <summary>PCI BAR 2 (<see cref="MmioBarSize"/> bytes), QEMU's MMIO register window.</summary>
    public IBusDevice MmioRegisters { get; }

    /// <summary>Ports 0x3C0–0x3DF: the attribute controller, DAC and status registers.</summary>
    public IBusDevice VgaPorts { get; }

    /// <summary>The framebuffer memory (PCI BAR 0). The display server reads pixels from it with <see cref="Mode"/>.</summary>
    public Memory<byte> VideoMemory => _videoMemory;

    /// <summary>What the display shows now.</summary>
    public DisplayMode Mode
    {
        get
        {
            lock (_lock)
            {
                return _mode;
            }
        }
    }

    /// <summary>Accesses the device does not implement: unknown offsets, widths no guest driver uses.</summary>
    public long BadAccesses { get; private set; }

    /// <summary>Register writes the device adjusted to the nearest valid value, as QEMU does (never an error to the guest).</summary>
    public long AdjustedValues { get; private set; }

    /// <summary>Writes dropped: an unknown interface id, read-only or unknown registers.</summary>
    public long IgnoredWrites { get; private set; }

    /// <summary>
    /// Sets a linear-framebuffer mode as firmware would before handing over to an OS (QEMU's VGA BIOS does the same
    /// DISPI writes), and turns video output on. The engine calls this before a Linux boot and describes the result in
    /// <c>screen_info</c>. Values are adjusted as for a guest; the returned mode says what was set.
    /// </summary>
    public DisplayMode SetModeAsFirmware(int width, int height, int bitsPerPixel)
    {
        DisplayMode mode;
        bool changed;
        lock (_lock)
        {
            WriteRegister(IndexEnable, 0);
            WriteRegister(IndexBpp, ClampToRegister(bitsPerPixel));
            WriteRegister(IndexXRes, ClampToRegister(width));
            WriteRegister(IndexYRes, ClampToRegister(height));
            WriteRegister(IndexBank, 0);
            WriteRegister(IndexEnable, EnableOn | EnableLinearFramebuffer);
            _attributeIndex = AttributeVideoOn;
            changed = UpdateMode();
            mode = _mode;
        }

        RaiseIfChanged(changed, mode);
        return mode;
    }

    /// <summary>Back to power-on state: VBE off, interface id 0xB0C5, video blanked, little-endian framebuffer.</summary>
    /// <remarks>Video memory keeps its contents, as on a real card; the next mode enable clears it.</remarks>
    public void Reset()
    {
        DisplayMode mode;
        bool changed;
        lock (_lock)
        {
            ResetState();
            changed = true;
            mode = _mode;
        }

        RaiseIfChanged(changed, mode);
    }

    private static ushort ClampToRegister(int value) => (ushort)Math.Clamp(value, 0, ushort.MaxValue);

    private bool VbeEnabled => (_registers[IndexEnable] & EnableOn) != 0;

    private int BankMask => (_videoMemory.Length >> 16) - 1;

    private void ResetState()
    {
        Array.Clear(_registers);
        _registers[IndexId] = IdLatest;
        _index = 0;
        _lineOffset = 0;
        _startOffset = 0;
        _bigEndianFramebuffer = false;
        ResetVgaState();
        ResetLegacyState();
        _mode = DisplayMode.PowerOn;
    }

    private ushort ReadDispiData()
    {
        int index = _index;
        if (index < RegisterCount)
        {
            if ((_registers[IndexEnable] & EnableGetCaps) != 0)
            {
                switch (index)
                {
                    case IndexXRes:
                        return MaxXResolution;
                    case IndexYRes:
                        return MaxYResolution;
                    case IndexBpp:
                        return MaxBitsPerPixel;
                }
            }

            return _registers[index];
        }

        return index == IndexVideoMemory64K ? (ushort)(_videoMemory.Length >> 16) : (ushort)0;
    }

    /// <summary>A write to the data register of DISPI register <paramref name="index"/>.</summary>
    private void WriteRegister(int index, ushort value)
    {
        switch (index)
        {
            case IndexId:
                if (value is >= IdFirst and <= IdLatest)
                {
                    _registers[IndexId] = value;
                }
                else
                {
                    IgnoredWrites++;
                }

                break;
            case IndexXRes:
            case IndexYRes:
            case IndexBpp:
            case IndexVirtWidth:
            case IndexXOffset:
            case IndexYOffset:
                _registers[index] = value;
                if (VbeEnabled)
                {
                    FixUpRegisters();
                    if (_registers[index] != value)
                    {
                        AdjustedValues++;
                    }
                }

                break;
            case IndexBank:
                _registers[IndexBank] = (ushort)(value & BankMask);
                break;
            case IndexEnable:
                WriteEnable(value);
                break;
            default:
                // VIRT_HEIGHT is computed from video memory, VIDEO_MEMORY_64K is read-only, the rest do not exist.
                IgnoredWrites++;
                break;
        }
    }

    private void WriteEnable(ushort value)
    {
        if ((value & EnableOn) != 0 && !VbeEnabled)
        {
            // A fresh mode starts unpanned with the virtual width of the visible width, whatever was written before.
            _registers[IndexVirtWidth] = 0;
            _registers[IndexXOffset] = 0;
            _registers[IndexYOffset] = 0;
            _registers[IndexEnable] |= EnableOn;
            ushort xres = _registers[IndexXRes], yres = _registers[IndexYRes], bpp = _registers[IndexBpp];
            FixUpRegisters();
            if (xres != _registers[IndexXRes] || yres != _registers[IndexYRes] || bpp != _registers[IndexBpp])
            {
                AdjustedValues++;
            }

            if ((value & EnableNoClearMemory) == 0)
            {
                _videoMemory.Span[..(_registers[IndexYRes] * _lineOffset)].Clear();
            }
        }

        _dac8Bit = (value & Enable8BitDac) != 0;
        _registers[IndexEnable] = value;
    }

    /// <summary>
    /// Brings the mode registers to the nearest values the hardware can show, as QEMU's <c>vbe_fixup_regs</c> does,
    /// and derives the line length and start offset. Only while VBE is enabled: a disabled interface keeps raw values.
    /// </summary>
    private void FixUpRegisters()
    {
        ushort[] r = _registers;
        int bits;
        switch (r[IndexBpp])
        {
            case 4:
            case 8:
            case 16:
            case 24:
            case 32:
                bits = r[IndexBpp];
                break;
            case 15:
                bits = 16;
                break;
            default:
                bits = 8;
                r[IndexBpp] = 8;
                break;
        }

        r[IndexXRes] = (ushort)(r[IndexXRes] & ~7);
        if (r[IndexXRes] == 0)
        {
            r[IndexXRes] = 8;
        }

        r[IndexXRes] = Math.Min(r[IndexXRes], (ushort)MaxXResolution);
        r[IndexVirtWidth] = (ushort)(r[IndexVirtWidth] & ~7);
        r[IndexVirtWidth] = Math.Min(r[IndexVirtWidth], (ushort)MaxXResolution);
        r[IndexVirtWidth] = Math.Max(r[IndexVirtWidth], r[IndexXRes]);

        int lineLength = r[IndexVirtWidth] * bits / 8;
        int maxLines = _videoMemory.Length / lineLength;
        if (r[IndexYRes] == 0)
        {
            r[IndexYRes] = 1;
        }

        r[IndexYRes] = (ushort)Math.Min((int)r[IndexYRes], Math.Min(MaxYResolution, maxLines));

        r[IndexXOffset] = Math.Min(r[IndexXOffset], (ushort)MaxXResolution);
        r[IndexYOffset] = Math.Min(r[IndexYOffset], (ushort)MaxYResolution);
        long visibleBytes = (long)r[IndexYRes] * lineLength;
        long offset = (r[IndexXOffset] * bits / 8) + ((long)r[IndexYOffset] * lineLength);
        if (offset + visibleBytes > _videoMemory.Length)
        {
            // Panning past the end: drop the vertical offset first, then the horizontal one.
            r[IndexYOffset] = 0;
            offset = r[IndexXOffset] * bits / 8;
            if (offset + visibleBytes > _videoMemory.Length)
            {
                r[IndexXOffset] = 0;
                offset = 0;
            }
        }

        // As in QEMU the virtual height is what fits (truncated to the register) and the start is 32-bit aligned.
        r[IndexVirtHeight] = (ushort)maxLines;
        _lineOffset = lineLength;
        _startOffset = (int)(offset & ~3L);
    }

    /// <summary>Recomputes <see cref="Mode"/>; true when it changed.</summary>
    private bool UpdateMode()
    {
        bool blanked = (_attributeIndex & AttributeVideoOn) == 0;
        DisplayMode next = VbeEnabled
            ? new DisplayMode(
                true,
                blanked,
                _registers[IndexXRes],
                _registers[IndexYRes],
                _registers[IndexBpp],
                _lineOffset,
                _startOffset,
                _bigEndianFramebuffer)
            : _mode with { Enabled = false, Blanked = blanked };
        if (next == _mode)
        {
            return false;
        }

        _mode = next;
        return true;
    }

    private void RaiseIfChanged(bool changed, DisplayMode mode)
    {
        if (changed)
        {
            ModeChanged?.Invoke(this, mode);
        }
    }

    private void CountBadAccess()
    {
        BadAccesses++;
        DeviceCounters.BadAccesses.Add(1, DeviceTag);
    }
}
