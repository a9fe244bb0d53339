using System.Buffers.Binary;
using Platform.Devices.Abstractions;
using Platform.Devices.Pci;
using static Platform.Devices.Storage.Ahci.AhciRegisters;

namespace Platform.Devices.Storage.Ahci;

/// <summary>
/// An AHCI SATA controller as QEMU's ICH9 AHCI function presents it (8086:2922, class 0x010601, subsystem 1af4:1100):
/// the HBA registers at ABAR (BAR 5, 4 KiB of memory space), six ports, INTx, and QEMU's MSI capability at 0x80 (one
/// vector, 64-bit, no per-vector mask; the first capability, as the ICH9 data sheet has it). SeaBIOS's <c>ahci.c</c>
/// and Linux's <c>ahci</c> driver bind it by class, with no driver of their own needed.
/// </summary>
/// <remarks>
/// <para>One lock serializes the registers and command processing of every port. Guest memory is touched only while
/// the guest has bus mastering on, and only through <see cref="IGuestMemory"/>'s checked copies.</para>
/// <para>INTx is a level: some port's PxIS &amp; PxIE with GHC.IE on. MSI is an edge, so with it enabled a message
/// goes out each time an enabled status bit becomes set that was not set before (or GHC.IE or a PxIE bit turns on
/// under one): a driver that clears one port's status while another's rises still hears of the second. INTx stays
/// down meanwhile.</para>
/// </remarks>
public sealed class AhciController : PciFunction
{
    public const ushort PciVendorId = 0x8086;
    public const ushort PciDeviceId = 0x2922;
    public const uint PciClassCode = 0x01_06_01; // mass storage, SATA, AHCI 1.0
    public const byte PciRevision = 0x02;
    public const int AbarIndex = 5;
    public const ulong AbarSize = 0x1000;
    public const int PortCount = 6;
    /// <summary>Where QEMU's ich9-ahci puts its MSI capability.</summary>
    public const int MsiCapabilityOffset = 0x80;

    private readonly Lock _lock = new();
    private readonly AhciPort[] _ports;
    private readonly MemoryAccess _memory;
    private uint _globalControl = GhcAe;
    // Per port, the PxIS & PxIE bits (while GHC.IE) already announced by a message: only newly set ones send another.
    private readonly uint[] _announced = new uint[PortCount];

    /// <param name="devices">What sits on each port (index = port number); up to <see cref="PortCount"/>, null for an empty port.</param>
    /// <param name="msi">Where the MSI vector goes; null: no MSI capability, INTx only.</param>
    public AhciController(IGuestMemory memory, IInterruptLine? intx, IReadOnlyList<IAtaDevice?> devices, IMsiTarget? msi = null)
        : base(new PciConfigSpace(PciVendorId, PciDeviceId, PciClassCode, PciRevision), intx)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(devices);
        if (devices.Count > PortCount)
        {
            throw new ArgumentException($"An AHCI controller here has {PortCount} ports; {devices.Count} devices were given.", nameof(devices));
        }

        Config.SetWord(PciRegisters.SubsystemVendorId, 0x1AF4);
        Config.SetWord(PciRegisters.SubsystemId, 0x1100);
        Config.MakeWritable(PciRegisters.InterruptLine, 1, 0xFF);
        AddMemoryBar(AbarIndex, AbarSize, is64Bit: false);
        if (msi is not null)
        {
            AddMsiCapability(new MsiCapability(msi, is64Bit: true, perVectorMask: false), MsiCapabilityOffset);
        }

        _memory = new MemoryAccess(memory);
        _ports = new AhciPort[PortCount];
        for (int i = 0; i < PortCount; i++)
        {
            _ports[i] = new AhciPort(i, i < devices.Count ? devices[i] : null, _memory, UpdateInterrupt);
        }
    }

    public IReadOnlyList<AhciPort> Ports => _ports;

    /// <summary>CAP: 64-bit addressing, NCQ, AHCI only, Gen 1, 32 command slots, <see cref="PortCount"/> ports.</summary>
    public static uint Capabilities => CapS64A | CapSncq | CapSam | (1u << CapIssShift) | ((uint)(CommandSlots - 1) << CapNcsShift) | (PortCount - 1);

    protected override void OnBarRead(int barIndex, ulong offset, Span<byte> data)
    {
        if (barIndex != AbarIndex || data.Length > 4 || (offset & 3) + (ulong)data.Length > 4)
        {
            CountBadAccess();
            data.Clear();
            return;
        }

        uint value;
        lock (_lock)
        {
            value = ReadRegister((int)(offset & ~3UL));
        }

        Span<byte> dword = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(dword, value);
        dword.Slice((int)(offset & 3), data.Length).CopyTo(data);
    }

    protected override void OnBarWritten(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
        // AHCI registers are written as whole dwords (AHCI 1.3.1, 3: "must be accessed as DWORD").
        if (barIndex != AbarIndex || data.Length != 4 || (offset & 3) != 0)
        {
            CountBadAccess();
            return;
        }

        uint value = BinaryPrimitives.ReadUInt32LittleEndian(data);
        lock (_lock)
        {
            if (!WriteRegister((int)offset, value))
            {
                CountBadAccess();
            }
        }
    }

    protected override void OnConfigWritten(int offset, int length)
    {
        if (Overlaps(offset, offset + length, PciRegisters.Command, 2))
        {
            _memory.BusMasterEnabled = (Config.ReadWord(PciRegisters.Command) & PciRegisters.CommandBusMaster) != 0;
        }

        if (Msi is not null && Overlaps(offset, offset + length, MsiCapabilityOffset + MsiCapability.MessageControlOffset, 2))
        {
            // MSI turned on or off: INTx follows (a level still pending comes back on INTx when MSI goes off).
            lock (_lock)
            {
                UpdateInterrupt();
            }
        }
    }

    private uint ReadRegister(int offset)
    {
        if (offset >= PortBase)
        {
            int port = (offset - PortBase) / PortStride;
            return port < PortCount ? _ports[port].Read((offset - PortBase) % PortStride) : 0;
        }

        return offset switch
        {
            HostCapabilities => Capabilities,
            GlobalHostControl => _globalControl,
            InterruptStatus => PendingPorts(),
            PortsImplemented => (1u << PortCount) - 1,
            VersionRegister => Version10,
            _ => 0,
        };
    }

    private bool WriteRegister(int offset, uint value)
    {
        if (offset >= PortBase)
        {
            int port = (offset - PortBase) / PortStride;
            return port < PortCount && _ports[port].Write((offset - PortBase) % PortStride, value);
        }

        switch (offset)
        {
            case GlobalHostControl:
                if ((value & GhcHr) != 0)
                {
                    ResetHba();
                }
                else
                {
                    _globalControl = GhcAe | (value & GhcIe);
                    UpdateInterrupt();
                }

                return true;
            case InterruptStatus:
                // Each bit is its port's PxIS & PxIE, which the driver clears at the port; nothing is latched here.
                return true;
            case HostCapabilities:
            case PortsImplemented:
            case VersionRegister:
            case CommandCompletionControl:
            case CommandCompletionPorts:
            case EnclosureLocation:
            case EnclosureControl:
            case HostCapabilitiesExtended:
            case BiosHandoff:
                return true; // read-only or features we do not offer: ignored, as on hardware
            default:
                return false;
        }
    }

    /// <summary>GHC.HR: every port resets and the HBA's own registers return to their defaults; HR reads 0 at once.</summary>
    private void ResetHba()
    {
        _globalControl = GhcAe;
        foreach (var port in _ports)
        {
            port.Reset();
        }

        UpdateInterrupt();
    }

    private uint PendingPorts()
    {
        uint pending = 0;
        for (int i = 0; i < PortCount; i++)
        {
            if (_ports[i].InterruptPending)
            {
                pending |= 1u << i;
            }
        }

        return pending;
    }

    /// <summary>
    /// INTx follows GHC.IE and whether any port's PxIS &amp; PxIE is set; with MSI on, a newly set enabled bit sends the
    /// message instead (called under <see cref="_lock"/>).
    /// </summary>
    private void UpdateInterrupt()
    {
        bool enabled = (_globalControl & GhcIe) != 0;
        bool fresh = false;
        for (int i = 0; i < PortCount; i++)
        {
            uint armed = enabled ? _ports[i].EnabledStatus : 0;
            fresh |= (armed & ~_announced[i]) != 0;
            _announced[i] = armed;
        }

        if (MsiEnabled)
        {
            SetIntxPending(false);
            if (fresh)
            {
                TriggerMsi();
            }

            return;
        }

        SetIntxPending(enabled && PendingPorts() != 0);
    }

    private sealed class MemoryAccess(IGuestMemory memory) : IGuestMemoryAccess
    {
        private volatile bool _busMaster;

        public bool BusMasterEnabled
        {
            get => _busMaster;
            set => _busMaster = value;
        }

        public bool TryRead(ulong address, Span<byte> destination) => memory.TryRead(address, destination);

        public bool TryWrite(ulong address, ReadOnlySpan<byte> source) => memory.TryWrite(address, source);
    }
}
