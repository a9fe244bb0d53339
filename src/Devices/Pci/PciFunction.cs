using Platform.Devices.Abstractions;

namespace Platform.Devices.Pci;

/// <summary>
/// One PCI function (bus 0, device N, function 0): its configuration space, memory BARs with sizing, the
/// command register's memory decoding, legacy INTx and, through subclasses, what lives in its BARs.
/// </summary>
/// <remarks>
/// <para>Configuration space is reached only through <see cref="ReadConfig"/>/<see cref="WriteConfig"/> (the host
/// bridge's ports, or the host when it places BARs as firmware would), serialized by one lock. BAR contents are
/// reached through <see cref="ReadBar"/>/<see cref="WriteBar"/>, which the subclass serializes itself.</para>
/// <para>BAR sizing needs no special case: the writable mask of a BAR holds only the address bits a BAR of its
/// size decodes, so the guest's all-ones write reads back as the size mask with the read-only type bits.</para>
/// <para>Locks, outermost first: configuration → the subclass's register lock → its interrupt lock → the INTx
/// and MSI-X locks, which call out only to the engine. Worker threads take only the last two kinds.</para>
/// </remarks>
public abstract class PciFunction
{
    private readonly Lock _configLock = new();
    private readonly Lock _intxLock = new();
    private readonly BarSlot[] _bars = new BarSlot[PciRegisters.BarCount];
    private readonly PciBarMapping?[] _reported = new PciBarMapping?[PciRegisters.BarCount];
    private readonly IInterruptLine? _intx;
    private readonly BarBusDevice?[] _barDevices = new BarBusDevice?[PciRegisters.BarCount];
    private MsixController? _msix;
    private int _msixCapability = -1;
    private MsiCapability? _msi;
    private int _msiCapability = -1;
    private volatile bool _msiEnabled;
    private bool _intxPending;
    private bool _intxDisabled;
    private bool _intxDriven;
    private long _badAccesses;

    protected PciFunction(PciConfigSpace config, IInterruptLine? intx)
    {
        Config = config;
        _intx = intx;
        config.SetByte(PciRegisters.HeaderType, PciRegisters.HeaderTypeNormal);
        config.SetByte(PciRegisters.InterruptPin, intx is null ? (byte)0 : PciRegisters.InterruptPinA);
    }

    /// <summary>The slot on bus 0, set when the function is attached to a <see cref="PciBus"/>; -1 before.</summary>
    public int DeviceNumber { get; private set; } = -1;

    /// <summary>The function number within its slot (0 for all but a multi-function device's others).</summary>
    public int FunctionNumber { get; private set; }

    /// <summary>1 (INTA#) when the function has a legacy interrupt, else 0: the MP table routes slot + pin.</summary>
    public byte InterruptPin => Config.ReadByte(PciRegisters.InterruptPin);

    /// <summary>Accesses this function ignored: unknown BAR offsets, odd widths, writes to read-only structures.</summary>
    public long BadAccesses => Interlocked.Read(ref _badAccesses);

    /// <summary>The function's MSI-X, if it has one.</summary>
    public MsixController? Msix => _msix;

    /// <summary>The function's MSI, if it has one.</summary>
    public MsiCapability? Msi => _msi;

    protected PciConfigSpace Config { get; }

    internal PciBus? Bus { get; private set; }

    public ushort VendorId => Config.ReadWord(PciRegisters.VendorId);

    public ushort DeviceId => Config.ReadWord(PciRegisters.DeviceId);

    /// <summary>Size in bytes of BAR <paramref name="index"/>; 0 when it is unused (or the upper half of a 64-bit BAR).</summary>
    public ulong BarSize(int index) => _bars[index].Size;

    public bool IsBar64Bit(int index) => _bars[index].Is64Bit;

    /// <summary>Where BAR <paramref name="index"/> decodes now, or null while memory decoding is off or it is unprogrammed.</summary>
    public PciBarMapping? BarMapping(int index)
    {
        lock (_configLock)
        {
            return CurrentMapping(index);
        }
    }

    /// <summary>
    /// BAR <paramref name="index"/> as a device for the MMIO bus: offsets are relative to the BAR. The same object
    /// is returned each time, so the engine can register and unregister it as the BAR moves.
    /// </summary>
    public IBusDevice BarDevice(int index)
    {
        if (_bars[index].Size == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"BAR {index} is not implemented.");
        }

        return _barDevices[index] ??= new BarBusDevice(this, index);
    }

    /// <summary>The guest (or host) reads configuration space at <paramref name="offset"/>.</summary>
    public void ReadConfig(int offset, Span<byte> data)
    {
        lock (_configLock)
        {
            Config.Read(offset, data);
            // Interrupt status (status bit 3) is live state kept outside configuration space, so the worker
            // threads that raise INTx never need the configuration lock.
            int statusByte = PciRegisters.Status - offset;
            if (statusByte >= 0 && statusByte < data.Length && Volatile.Read(ref _intxPending) && !_msiEnabled)
            {
                data[statusByte] |= (byte)PciRegisters.StatusInterrupt;
            }

            _msi?.PatchRead(_msiCapability, offset, data);
            OnConfigRead(offset, data);
        }
    }

    /// <summary>The guest (or host) writes configuration space; BAR and decoding changes reach the bus's observer.</summary>
    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        Span<PendingBarChange> changes = stackalloc PendingBarChange[PciRegisters.BarCount];
        int changeCount;
        lock (_configLock)
        {
            Config.Write(offset, data);
            int end = offset + data.Length;
            if (Overlaps(offset, end, PciRegisters.Command, 2))
            {
                UpdateIntxDisable();
            }

            if (_msix is not null && Overlaps(offset, end, _msixCapability + MsixController.MessageControlOffset, 2))
            {
                _msix.WriteMessageControl(Config.ReadWord(_msixCapability + MsixController.MessageControlOffset));
            }

            if (_msi is not null && Overlaps(offset, end, _msiCapability, _msi.Length))
            {
                _msi.ConfigChanged(Config, _msiCapability);
                UpdateMsiEnabled(_msi.Enabled);
            }

            OnConfigWritten(offset, data.Length);
            changeCount = CollectBarChanges(changes);
        }

        // Outside the lock: the engine's observer moves bus ranges and ioeventfds and may read our state back.
        var observer = Bus?.Observer;
        for (int i = 0; i < changeCount; i++)
        {
            var change = changes[i];
            Bus?.OnBarMappingChanged(this, change.Index, change.Previous, change.Current);
            observer?.BarMappingChanged(this, change.Index, change.Previous, change.Current);
        }
    }

    /// <summary>The guest reads <paramref name="data"/>.Length bytes at <paramref name="offset"/> in BAR <paramref name="barIndex"/>.</summary>
    public void ReadBar(int barIndex, ulong offset, Span<byte> data)
    {
        if ((uint)barIndex >= PciRegisters.BarCount || offset >= _bars[barIndex].Size || data.Length == 0 ||
            (ulong)data.Length > _bars[barIndex].Size - offset)
        {
            CountBadAccess();
            data.Clear();
            return;
        }

        OnBarRead(barIndex, offset, data);
    }

    public void WriteBar(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
        if ((uint)barIndex >= PciRegisters.BarCount || offset >= _bars[barIndex].Size || data.Length == 0 ||
            (ulong)data.Length > _bars[barIndex].Size - offset)
        {
            CountBadAccess();
            return;
        }

        OnBarWritten(barIndex, offset, data);
    }

    /// <summary>Declares a memory BAR. <paramref name="size"/> is a power of two, at least 16 bytes.</summary>
    protected void AddMemoryBar(int index, ulong size, bool is64Bit, bool prefetchable = false)
    {
        if (size < 16 || (size & (size - 1)) != 0 || (!is64Bit && size > 1UL << 31))
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"A BAR of 0x{size:x} bytes cannot be decoded.");
        }

        if ((uint)index >= PciRegisters.BarCount || (is64Bit && index == PciRegisters.BarCount - 1) ||
            _bars[index].Size != 0 || _bars[index].IsUpperHalf || (is64Bit && _bars[index + 1].Size != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"BAR {index} is taken or cannot hold this BAR.");
        }

        _bars[index] = new BarSlot(size, is64Bit, IsUpperHalf: false);
        int register = PciRegisters.Bar0 + (4 * index);
        uint typeBits = (is64Bit ? PciRegisters.BarMemory64Bit : 0) | (prefetchable ? PciRegisters.BarMemoryPrefetchable : 0);
        Config.SetDword(register, typeBits);
        // Only the address bits a BAR of this size decodes are writable: the sizing write reads back ~(size-1).
        Config.MakeWritable(register, 4, ~(size - 1) & 0xFFFF_FFF0);
        if (is64Bit)
        {
            _bars[index + 1] = new BarSlot(0, false, IsUpperHalf: true);
            Config.MakeWritable(register + 4, 4, (~(size - 1)) >> 32);
        }
    }

    /// <summary>Adds the MSI-X capability for <paramref name="msix"/>, whose table and PBA this function's BAR serves.</summary>
    protected void AddMsixCapability(MsixController msix)
    {
        if (_msix is not null)
        {
            throw new InvalidOperationException("The function already has MSI-X.");
        }

        Span<byte> body = stackalloc byte[MsixController.CapabilityLength - 2];
        msix.WriteCapabilityBody(body);
        _msixCapability = Config.AddCapability(PciRegisters.CapabilityIdMsix, body);
        Config.MakeWritable(_msixCapability + MsixController.MessageControlOffset, 2,
            MsixController.ControlEnable | MsixController.ControlFunctionMask);
        _msix = msix;
    }

    /// <summary>
    /// Adds the MSI capability <paramref name="msi"/> at <paramref name="offset"/> (null: after the last capability). While
    /// the guest has MSI enabled, INTx stays deasserted whatever <see cref="SetIntxPending"/> says.
    /// </summary>
    protected void AddMsiCapability(MsiCapability msi, int? offset = null)
    {
        if (_msi is not null)
        {
            throw new InvalidOperationException("The function already has MSI.");
        }

        _msiCapability = Config.AddCapability(PciRegisters.CapabilityIdMsi, new byte[msi.Length - 2], offset);
        msi.Install(Config, _msiCapability);
        _msi = msi;
    }

    /// <summary>Whether the guest has turned MSI on (then the function signals with <see cref="TriggerMsi"/>, never INTx).</summary>
    protected bool MsiEnabled => _msiEnabled;

    /// <summary>Sends the MSI message (or holds it pending while masked); false when MSI is off.</summary>
    protected bool TriggerMsi() => _msi?.Trigger() ?? false;

    /// <summary>Drives INTx: asserted while <paramref name="pending"/> and the command register does not disable it.</summary>
    protected void SetIntxPending(bool pending)
    {
        lock (_intxLock)
        {
            Volatile.Write(ref _intxPending, pending);
            DriveIntx();
        }
    }

    protected void CountBadAccess() => Interlocked.Increment(ref _badAccesses);

    protected abstract void OnBarRead(int barIndex, ulong offset, Span<byte> data);

    protected abstract void OnBarWritten(int barIndex, ulong offset, ReadOnlySpan<byte> data);

    /// <summary>Lets a subclass fill registers it keeps live (called under the configuration lock).</summary>
    protected virtual void OnConfigRead(int offset, Span<byte> data)
    {
    }

    /// <summary>Lets a subclass react to a configuration write (called under the configuration lock, after the masks).</summary>
    protected virtual void OnConfigWritten(int offset, int length)
    {
    }

    protected static bool Overlaps(int start, int end, int register, int length) => start < register + length && register < end;

    internal void AttachTo(PciBus bus, int deviceNumber, int functionNumber)
    {
        if (Bus is not null)
        {
            throw new InvalidOperationException("The function is already on a bus.");
        }

        Bus = bus;
        DeviceNumber = deviceNumber;
        FunctionNumber = functionNumber;
    }

    private void UpdateIntxDisable()
    {
        bool disabled = (Config.ReadWord(PciRegisters.Command) & PciRegisters.CommandInterruptDisable) != 0;
        lock (_intxLock)
        {
            _intxDisabled = disabled;
            DriveIntx();
        }
    }

    private void UpdateMsiEnabled(bool enabled)
    {
        lock (_intxLock)
        {
            _msiEnabled = enabled;
            DriveIntx();
        }
    }

    private void DriveIntx()
    {
        // PCI 3.0, 6.8.1.3: a function with MSI enabled must not use INTx.
        bool level = _intxPending && !_intxDisabled && !_msiEnabled;
        if (_intx is not null && level != _intxDriven)
        {
            _intxDriven = level;
            _intx.SetLevel(level);
        }
    }

    private PciBarMapping? CurrentMapping(int index)
    {
        var bar = _bars[index];
        if (bar.Size == 0 || (Config.ReadWord(PciRegisters.Command) & PciRegisters.CommandMemorySpace) == 0)
        {
            return null;
        }

        int register = PciRegisters.Bar0 + (4 * index);
        ulong address = Config.ReadDword(register) & 0xFFFF_FFF0UL;
        if (bar.Is64Bit)
        {
            address |= (ulong)Config.ReadDword(register + 4) << 32;
        }

        // Address 0 means "not programmed"; a BAR that would wrap past the top of its address space cannot decode.
        ulong limit = bar.Is64Bit ? ulong.MaxValue : 0xFFFF_FFFFUL;
        if (address == 0 || address > limit - (bar.Size - 1))
        {
            return null;
        }

        return new PciBarMapping(address, bar.Size);
    }

    private int CollectBarChanges(Span<PendingBarChange> changes)
    {
        int count = 0;
        for (int i = 0; i < PciRegisters.BarCount; i++)
        {
            if (_bars[i].Size == 0)
            {
                continue;
            }

            var current = CurrentMapping(i);
            if (current != _reported[i])
            {
                changes[count++] = new PendingBarChange(i, _reported[i], current);
                _reported[i] = current;
            }
        }

        return count;
    }

    private readonly record struct BarSlot(ulong Size, bool Is64Bit, bool IsUpperHalf);

    private readonly record struct PendingBarChange(int Index, PciBarMapping? Previous, PciBarMapping? Current);

    /// <summary>One BAR as an <see cref="IBusDevice"/>, so the engine can put it on its MMIO bus as it is.</summary>
    private sealed class BarBusDevice(PciFunction function, int index) : IBusDevice
    {
        public void Read(ulong offset, Span<byte> data) => function.ReadBar(index, offset, data);

        public void Write(ulong offset, ReadOnlySpan<byte> data) => function.WriteBar(index, offset, data);
    }
}
