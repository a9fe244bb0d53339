namespace Platform.Devices.Pci;

/// <summary>
/// MSI with one vector (PCI 3.0, section 6.8.1): the capability's message control, address (32- or 64-bit) and data,
/// and, when offered, the per-vector mask and pending bits. The registers live in the function's configuration space,
/// which the guest writes through its masks; <see cref="PciFunction"/> hands the result to <see cref="ConfigChanged"/>,
/// which keeps the engine's route (<see cref="IMsiTarget"/>) equal to the message. A device raises it with
/// <see cref="Trigger"/>: delivered at once, or, while its mask bit is set, held as pending until the guest clears it.
/// </summary>
/// <remarks>
/// Only one vector: the devices that use it (QEMU's ICH9 AHCI has one, 64-bit, with no masking) interrupt for one
/// reason. Multiple Message Enable is writable, as on QEMU, but whatever the guest asks for, vector 0 is the one sent.
/// Locks: the function's configuration lock, then this one, then the engine's target, which calls nothing back.
/// </remarks>
public sealed class MsiCapability
{
    public const int MessageControlOffset = 2, AddressOffset = 4;
    public const ushort ControlEnable = 1 << 0;
    public const ushort ControlMultipleMessageEnable = 0b111 << 4;
    public const ushort Control64Bit = 1 << 7;
    public const ushort ControlPerVectorMask = 1 << 8;

    private readonly Lock _lock = new();
    private readonly IMsiTarget _target;
    private bool _enabled;
    private bool _maskBit;
    private bool _pending;
    private MsiMessage _message;
    private bool? _reportedMask;
    private MsiMessage _reportedMessage;

    public MsiCapability(IMsiTarget target, bool is64Bit, bool perVectorMask)
    {
        _target = target ?? throw new ArgumentNullException(nameof(target));
        Is64Bit = is64Bit;
        PerVectorMask = perVectorMask;
    }

    public bool Is64Bit { get; }

    public bool PerVectorMask { get; }

    /// <summary>Offsets within the capability: the data after the address, then the mask and pending dwords.</summary>
    public int DataOffset => Is64Bit ? 12 : 8;

    public int MaskOffset => DataOffset + 4;

    public int PendingOffset => MaskOffset + 4;

    /// <summary>The capability's length, from its ID byte: up to the data word, or the pending bits with masking.</summary>
    public int Length => PerVectorMask ? PendingOffset + 4 : DataOffset + 2;

    /// <summary>The MSI Enable bit: while set the function must not use INTx (PCI 3.0, 6.8.1.3).</summary>
    public bool Enabled
    {
        get
        {
            lock (_lock)
            {
                return _enabled;
            }
        }
    }

    /// <summary>Whether a message is held back by the mask bit (the Pending Bits register, bit 0).</summary>
    public bool Pending
    {
        get
        {
            lock (_lock)
            {
                return _pending;
            }
        }
    }

    /// <summary>Puts the capability's registers at <paramref name="offset"/> and says which bits the guest may write.</summary>
    internal void Install(PciConfigSpace config, int offset)
    {
        config.SetWord(offset + MessageControlOffset, (ushort)((Is64Bit ? Control64Bit : 0) | (PerVectorMask ? ControlPerVectorMask : 0)));
        config.MakeWritable(offset + MessageControlOffset, 2, ControlEnable | ControlMultipleMessageEnable);
        config.MakeWritable(offset + AddressOffset, 4, 0xFFFF_FFFC); // dword aligned: bits 1-0 read as zero
        if (Is64Bit)
        {
            config.MakeWritable(offset + AddressOffset + 4, 4, 0xFFFF_FFFF);
        }

        config.MakeWritable(offset + DataOffset, 2, 0xFFFF);
        if (PerVectorMask)
        {
            config.MakeWritable(offset + MaskOffset, 4, 1); // one vector, one mask bit; the pending bits are read-only
        }
    }

    /// <summary>
    /// Takes the registers as the guest left them after a configuration write: tells the engine of a new message or
    /// mask, and delivers a message the mask held back once it clears.
    /// </summary>
    internal void ConfigChanged(PciConfigSpace config, int offset)
    {
        ushort control = config.ReadWord(offset + MessageControlOffset);
        ulong address = config.ReadDword(offset + AddressOffset);
        if (Is64Bit)
        {
            address |= (ulong)config.ReadDword(offset + AddressOffset + 4) << 32;
        }

        var message = new MsiMessage(address, config.ReadWord(offset + DataOffset));
        bool maskBit = PerVectorMask && (config.ReadDword(offset + MaskOffset) & 1) != 0;
        lock (_lock)
        {
            _enabled = (control & ControlEnable) != 0;
            _maskBit = maskBit;
            _message = message;
            if (!_enabled)
            {
                _pending = false; // nothing is pending while MSI is off: the device uses INTx
            }

            // A route matters only while the vector can fire; a masked or disabled one is reported as masked.
            bool masked = !_enabled || _maskBit;
            if (_reportedMask != masked || (!masked && _reportedMessage != message))
            {
                _target.VectorChanged(0, message, masked);
                _reportedMask = masked;
                _reportedMessage = message;
            }

            if (!masked && _pending)
            {
                _pending = false;
                _target.Signal(0, _message);
            }
        }
    }

    /// <summary>
    /// Sends the message, or marks it pending while masked. Returns false when MSI is off, so the device interrupts
    /// through INTx instead.
    /// </summary>
    public bool Trigger()
    {
        lock (_lock)
        {
            if (!_enabled)
            {
                return false;
            }

            if (_maskBit)
            {
                _pending = true;
            }
            else
            {
                _target.Signal(0, _message);
            }

            return true;
        }
    }

    /// <summary>Fills the Pending Bits register into a configuration read that covers it.</summary>
    internal void PatchRead(int capabilityOffset, int readOffset, Span<byte> data)
    {
        if (!PerVectorMask)
        {
            return;
        }

        int at = capabilityOffset + PendingOffset - readOffset;
        if (at >= 0 && at < data.Length && Pending)
        {
            data[at] |= 1;
        }
    }
}
