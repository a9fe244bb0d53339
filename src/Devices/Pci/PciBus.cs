using System.Buffers.Binary;

namespace Platform.Devices.Pci;

/// <summary>
/// PCI bus 0: up to 32 single-function devices, with the host bridge at device 0. Routes configuration accesses by
/// device number, tells the engine when BARs move (<see cref="IPciBarObserver"/>), and can place every BAR in a
/// window as firmware would (<see cref="AssignBars"/>), since our guests boot without firmware.
/// </summary>
public sealed class PciBus
{
    public const int DeviceCount = 32;

    public const int FunctionCount = 8;

    private readonly PciFunction?[] _devices = new PciFunction?[DeviceCount];
    private readonly Dictionary<(int Device, int Function), PciFunction> _otherFunctions = [];
    private readonly Lock _windowLock = new();
    private WindowEntry[] _windowEntries = [];

    /// <param name="hostBridge">The function at 00:00.0: a plain <see cref="PciHostBridgeFunction"/> unless a machine
    /// needs a particular chipset's (the i440FX a BIOS looks for).</param>
    public PciBus(IPciBarObserver? observer = null, PciFunction? hostBridge = null)
    {
        Observer = observer;
        Attach(0, hostBridge ?? new PciHostBridgeFunction());
    }

    public IPciBarObserver? Observer { get; }

    /// <summary>Each device's function 0, by device number (null for empty slots).</summary>
    public IReadOnlyList<PciFunction?> Devices => _devices;

    /// <summary>Puts <paramref name="function"/> at device <paramref name="deviceNumber"/> (1–31; 0 is the host bridge).</summary>
    public void Attach(int deviceNumber, PciFunction function)
    {
        if ((uint)deviceNumber >= DeviceCount || _devices[deviceNumber] is not null)
        {
            throw new ArgumentOutOfRangeException(nameof(deviceNumber), $"PCI slot {deviceNumber} is taken or does not exist.");
        }

        function.AttachTo(this, deviceNumber, 0);
        _devices[deviceNumber] = function;
    }

    /// <summary>
    /// Puts <paramref name="function"/> at function <paramref name="functionNumber"/> (1–7) of a device that has a function 0,
    /// whose header must say it is multi-function (firmware and OSes probe functions 1–7 only then).
    /// </summary>
    public void Attach(int deviceNumber, int functionNumber, PciFunction function)
    {
        if ((uint)deviceNumber >= DeviceCount || _devices[deviceNumber] is null || functionNumber is < 1 or >= FunctionCount
            || _otherFunctions.ContainsKey((deviceNumber, functionNumber)))
        {
            throw new ArgumentOutOfRangeException(nameof(functionNumber),
                $"PCI function {deviceNumber:x2}.{functionNumber} is taken, does not exist, or its device has no function 0.");
        }

        function.AttachTo(this, deviceNumber, functionNumber);
        _otherFunctions[(deviceNumber, functionNumber)] = function;
    }

    /// <summary>The first free device number, or -1 when the bus is full.</summary>
    public int FreeSlot() => Array.IndexOf(_devices, null);

    /// <summary>Configuration read; absent functions read as all ones, as a master abort does.</summary>
    public void ReadConfig(int bus, int device, int function, int offset, Span<byte> data)
    {
        var target = Find(bus, device, function);
        if (target is null)
        {
            data.Fill(0xFF);
            return;
        }

        target.ReadConfig(offset, data);
    }

    /// <summary>Configuration write; writes to absent functions vanish.</summary>
    public void WriteConfig(int bus, int device, int function, int offset, ReadOnlySpan<byte> data) =>
        Find(bus, device, function)?.WriteConfig(offset, data);

    /// <summary>
    /// Places every memory BAR in [<paramref name="windowStart"/>, start + <paramref name="windowLength"/>), largest
    /// first and naturally aligned, then enables memory decoding — what firmware does before an OS runs. The
    /// writes go through configuration space, so the observer hears of each mapping. Throws when they do not fit.
    /// </summary>
    public void AssignBars(ulong windowStart, ulong windowLength)
    {
        var bars = new List<(PciFunction Function, int Index, ulong Size)>();
        foreach (var function in _devices)
        {
            for (int i = 0; function is not null && i < PciRegisters.BarCount; i++)
            {
                if (function.BarSize(i) != 0)
                {
                    bars.Add((function, i, function.BarSize(i)));
                }
            }
        }

        ulong next = windowStart;
        ulong end = windowStart + windowLength;
        Span<byte> dword = stackalloc byte[4];
        foreach (var (function, index, size) in bars.OrderByDescending(b => b.Size))
        {
            ulong address = (next + size - 1) & ~(size - 1);
            if (address < next || address + size > end || (!function.IsBar64Bit(index) && address + size > 1UL << 32))
            {
                throw new InvalidOperationException(
                    $"The PCI window 0x{windowStart:x}+0x{windowLength:x} has no room for BAR {index} (0x{size:x} bytes) of device {function.DeviceNumber}.");
            }

            int register = PciRegisters.Bar0 + (4 * index);
            BinaryPrimitives.WriteUInt32LittleEndian(dword, (uint)address);
            function.WriteConfig(register, dword);
            if (function.IsBar64Bit(index))
            {
                BinaryPrimitives.WriteUInt32LittleEndian(dword, (uint)(address >> 32));
                function.WriteConfig(register + 4, dword);
            }

            next = address + size;
        }

        Span<byte> command = stackalloc byte[2];
        foreach (var function in _devices)
        {
            if (function is null)
            {
                continue;
            }

            function.ReadConfig(PciRegisters.Command, command);
            command[0] |= (byte)PciRegisters.CommandMemorySpace;
            function.WriteConfig(PciRegisters.Command, command);
        }
    }

    /// <summary>
    /// A device for the MMIO bus covering the whole PCI window starting at <paramref name="windowStart"/>: it
    /// dispatches each access to the BAR that decodes that address now. With it the engine registers one fixed
    /// range and BAR moves need no bus changes (it still moves ioeventfds through <see cref="Observer"/>).
    /// Accesses no BAR decodes read as all ones and are counted.
    /// </summary>
    public PciMmioWindow CreateMmioWindow(ulong windowStart) => new(this, windowStart);

    internal ReadOnlySpan<WindowEntry> WindowEntries => Volatile.Read(ref _windowEntries);

    /// <summary>Keeps the window's lookup table in step; called for every mapping change before the observer.</summary>
    internal void OnBarMappingChanged(PciFunction function, int index, PciBarMapping? previous, PciBarMapping? current)
    {
        lock (_windowLock)
        {
            var entries = _windowEntries.Where(e => !(e.Function == function && e.BarIndex == index)).ToList();
            if (current is { } mapping)
            {
                entries.Add(new WindowEntry(mapping.Address, mapping.Size, function, index));
            }

            Volatile.Write(ref _windowEntries, [.. entries.OrderBy(e => e.Start)]);
        }
    }

    private PciFunction? Find(int bus, int device, int function) =>
        bus != 0 || (uint)device >= DeviceCount ? null
        : function == 0 ? _devices[device]
        : _otherFunctions.GetValueOrDefault((device, function));

    internal readonly record struct WindowEntry(ulong Start, ulong Length, PciFunction Function, int BarIndex);
}
