using System.Buffers.Binary;
using Platform.Devices.Abstractions;

namespace Platform.Devices.Pci;

/// <summary>
/// Configuration mechanism #1 on ports 0xCF8–0xCFF: a 32-bit address register at 0xCF8 (enable bit 31, bus 23:16,
/// device 15:11, function 10:8, register 7:2) and a data window at 0xCFC–0xCFF that reaches the addressed dword;
/// byte and word accesses anywhere inside the window reach the matching bytes.
/// </summary>
/// <remarks>
/// Register it for 8 ports at <see cref="BasePort"/>. As on a PC, only dword accesses reach the address register:
/// narrower ones at 0xCF8–0xCFB belong to other chipset registers (Linux's probe writes a byte to 0xCFB and expects
/// the address to survive). One such register is emulated: a byte write to 0xCF9 (the PIIX/ICH reset control
/// register, Linux's <c>reboot=pci</c>) with the reset bit raises <see cref="ResetRequested"/>. The address latch is
/// shared by all vCPUs, as on hardware; a lock keeps each access whole.
/// </remarks>
public sealed class PciHostBridge : IBusDevice
{
    public const ushort BasePort = 0xCF8;
    public const int PortCount = 8;

    private const int AddressOffset = 0, DataOffset = 4, ResetControlOffset = 1;
    private const uint AddressEnable = 1U << 31;
    private const byte ResetControlSystemReset = 1 << 1, ResetControlResetCpu = 1 << 2;

    private readonly PciBus _bus;
    private readonly Lock _lock = new();
    private uint _address;
    private byte _resetControl;
    private long _badAccesses;

    public PciHostBridge(PciBus bus) => _bus = bus;

    /// <summary>Raised (on the vCPU thread) when the guest asks for a reset through port 0xCF9.</summary>
    public Action? ResetRequested { get; set; }

    public long BadAccesses => Interlocked.Read(ref _badAccesses);

    public void Read(ulong offset, Span<byte> data)
    {
        if (offset >= DataOffset)
        {
            lock (_lock)
            {
                if (TryDecode(offset, data.Length, out int bus, out int device, out int function, out int register))
                {
                    _bus.ReadConfig(bus, device, function, register, data);
                }
                else
                {
                    data.Fill(0xFF);
                }
            }

            return;
        }

        lock (_lock)
        {
            if (offset == AddressOffset && data.Length == 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(data, _address);
            }
            else if (offset == ResetControlOffset && data.Length == 1)
            {
                data[0] = _resetControl;
            }
            else
            {
                // Not ours on a PC (ISA space shares these ports for narrow accesses): read as an empty bus.
                data.Fill(0xFF);
            }
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        bool reset = false;
        lock (_lock)
        {
            if (offset >= DataOffset)
            {
                if (TryDecode(offset, data.Length, out int bus, out int device, out int function, out int register))
                {
                    _bus.WriteConfig(bus, device, function, register, data);
                }

                return;
            }

            if (offset == AddressOffset && data.Length == 4)
            {
                _address = BinaryPrimitives.ReadUInt32LittleEndian(data);
            }
            else if (offset == ResetControlOffset && data.Length == 1)
            {
                // The chipset resets when RST_CPU goes 0 → 1; SYS_RST only selects how hard.
                reset = (data[0] & ResetControlResetCpu) != 0 && (_resetControl & ResetControlResetCpu) == 0;
                _resetControl = (byte)(data[0] & (ResetControlSystemReset | ResetControlResetCpu));
                if (reset)
                {
                    _resetControl = 0;
                }
            }
            else if (data.Length == 4 || data.Length == 2 || offset > 3)
            {
                Interlocked.Increment(ref _badAccesses);
            }
        }

        if (reset)
        {
            ResetRequested?.Invoke();
        }
    }

    private bool TryDecode(ulong offset, int length, out int bus, out int device, out int function, out int register)
    {
        int byteInWindow = (int)(offset - DataOffset);
        bus = (int)((_address >> 16) & 0xFF);
        device = (int)((_address >> 11) & 0x1F);
        function = (int)((_address >> 8) & 0x7);
        register = (int)(_address & 0xFC) + byteInWindow;
        if (length is not (1 or 2 or 4) || byteInWindow + length > 4)
        {
            Interlocked.Increment(ref _badAccesses);
            return false;
        }

        return (_address & AddressEnable) != 0;
    }
}
