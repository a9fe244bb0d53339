namespace Platform.Devices.Display;

// The VGA registers: the attribute controller (its index bit 5 turns video output on), the DAC palette, the input
// status register whose read resets the attribute flip-flop, and the sequencer, graphics controller and CRTC, which
// the legacy window (StdVga.Legacy.cs) and LegacyVgaScreen read. Any value is kept, as on the hardware: a register
// that makes no sense only makes a strange picture, never an error.
public sealed partial class StdVga
{
    private const int AttributeRegisterCount = 0x15;
    private const int PaletteEntries = 256;

    private readonly byte[] _attributes = new byte[AttributeRegisterCount];
    private readonly byte[] _sequencer = new byte[8];
    private readonly byte[] _graphics = new byte[16];
    private readonly byte[] _crtc = new byte[256];
    private readonly byte[] _palette = new byte[PaletteEntries * 3];
    private readonly byte[] _dacCache = new byte[3];

    private byte _attributeIndex;
    private bool _attributeFlipFlop;   // false: the next 0x3C0 write is an index; true: it is data
    private byte _miscOutput;
    private byte _featureControl;
    private byte _inputStatus1;
    private byte _sequencerIndex;
    private byte _graphicsIndex;
    private byte _crtcIndex;
    private byte _pelMask;
    private byte _dacReadIndex;
    private byte _dacWriteIndex;
    private int _dacSubIndex;
    private byte _dacState;            // what 0x3C7 reads: 0 after a write-index write, 3 after a read-index write
    private bool _dac8Bit;
    private int _paletteVersion;

    /// <summary>Bumped whenever a DAC palette entry changes, so a viewer of an 8-bit mode knows to redraw.</summary>
    public int PaletteVersion
    {
        get
        {
            lock (_lock)
            {
                return _paletteVersion;
            }
        }
    }

    /// <summary>
    /// The 256 DAC colours as 0x00RRGGBB, widened from the DAC's 6 bits unless the guest enabled the 8-bit DAC
    /// through the VBE enable register.
    /// </summary>
    public void CopyPalette(Span<uint> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, PaletteEntries);
        lock (_lock)
        {
            for (int i = 0; i < PaletteEntries; i++)
            {
                uint r = Widen(_palette[i * 3]), g = Widen(_palette[(i * 3) + 1]), b = Widen(_palette[(i * 3) + 2]);
                destination[i] = (r << 16) | (g << 8) | b;
            }
        }
    }

    private uint Widen(byte component) => _dac8Bit ? component : (uint)(((component & 0x3F) << 2) | ((component & 0x3F) >> 4));

    private void ResetVgaState()
    {
        Array.Clear(_attributes);
        Array.Clear(_sequencer);
        Array.Clear(_graphics);
        Array.Clear(_crtc);
        Array.Clear(_palette);
        _attributeIndex = 0;
        _attributeFlipFlop = false;
        _miscOutput = 0;
        _featureControl = 0;
        _inputStatus1 = 0;
        _sequencerIndex = 0;
        _graphicsIndex = 0;
        _crtcIndex = 0;
        _pelMask = 0xFF;
        _dacReadIndex = 0;
        _dacWriteIndex = 0;
        _dacSubIndex = 0;
        _dacState = 0;
        _dac8Bit = false;
        _paletteVersion++;
    }

    /// <summary>A byte read of port 0x3C0 + <paramref name="port"/>.</summary>
    private byte ReadVgaPort(int port)
    {
        switch (port)
        {
            case VgaAttributeWrite:
                return _attributeFlipFlop ? (byte)0 : _attributeIndex;
            case VgaAttributeRead:
                int attribute = _attributeIndex & 0x1F;
                return attribute < AttributeRegisterCount ? _attributes[attribute] : (byte)0;
            case VgaMiscWrite:
                return 0; // input status 0: no switch sense, no pending CRT interrupt
            case VgaSequencerIndex:
                return _sequencerIndex;
            case VgaSequencerData:
                return _sequencer[_sequencerIndex];
            case VgaPelMask:
                return _pelMask;
            case VgaDacReadIndex:
                return _dacState;
            case VgaDacWriteIndex:
                return _dacWriteIndex;
            case VgaDacData:
                byte value = _palette[(_dacReadIndex * 3) + _dacSubIndex];
                if (++_dacSubIndex == 3)
                {
                    _dacSubIndex = 0;
                    _dacReadIndex++;
                }

                return value;
            case VgaFeatureRead:
                return _featureControl;
            case VgaMiscRead:
                return _miscOutput;
            case VgaGraphicsIndex:
                return _graphicsIndex;
            case VgaGraphicsData:
                return _graphics[_graphicsIndex];
            case VgaCrtcIndex:
                return _crtcIndex;
            case VgaCrtcData:
                return _crtc[_crtcIndex];
            case VgaInputStatus1:
                // Guests wait for retrace by polling this; toggling on every read (as QEMU does without precise
                // retrace timing) lets every such loop finish at once.
                _attributeFlipFlop = false;
                _inputStatus1 ^= InputStatusRetraceBits;
                return _inputStatus1;
            default:
                CountBadAccess();
                return 0;
        }
    }

    /// <summary>A byte write of port 0x3C0 + <paramref name="port"/>.</summary>
    private void WriteVgaPort(int port, byte value)
    {
        _legacyChanges++;
        switch (port)
        {
            case VgaAttributeWrite:
                if (!_attributeFlipFlop)
                {
                    _attributeIndex = (byte)(value & 0x3F);
                }
                else
                {
                    int attribute = _attributeIndex & 0x1F;
                    if (attribute < AttributeRegisterCount)
                    {
                        _attributes[attribute] = value;
                    }
                }

                _attributeFlipFlop = !_attributeFlipFlop;
                break;
            case VgaMiscWrite:
                _miscOutput = (byte)(value & ~0x10);
                break;
            case VgaSequencerIndex:
                _sequencerIndex = (byte)(value & 7);
                break;
            case VgaSequencerData:
                _sequencer[_sequencerIndex] = value;
                break;
            case VgaPelMask:
                _pelMask = value;
                break;
            case VgaDacReadIndex:
                _dacReadIndex = value;
                _dacSubIndex = 0;
                _dacState = 3;
                break;
            case VgaDacWriteIndex:
                _dacWriteIndex = value;
                _dacSubIndex = 0;
                _dacState = 0;
                break;
            case VgaDacData:
                _dacCache[_dacSubIndex] = value;
                if (++_dacSubIndex == 3)
                {
                    _dacCache.CopyTo(_palette, _dacWriteIndex * 3);
                    _dacSubIndex = 0;
                    _dacWriteIndex++;
                    _paletteVersion++;
                }

                break;
            case VgaGraphicsIndex:
                _graphicsIndex = (byte)(value & 0x0F);
                break;
            case VgaGraphicsData:
                _graphics[_graphicsIndex] = value;
                break;
            case VgaCrtcIndex:
                _crtcIndex = value;
                break;
            case VgaCrtcData:
                _crtc[_crtcIndex] = value;
                break;
            case VgaInputStatus1:
                _featureControl = (byte)(value & 0x10);
                break;
            default:
                CountBadAccess();
                break;
        }
    }
}
