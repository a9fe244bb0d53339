using System.Buffers.Binary;
using Platform.Devices.Abstractions;
using Platform.Devices.Pci;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio;

/// <summary>
/// The virtio 1.x PCI transport ("modern", virtio 1.2 section 4.1) around any <see cref="IVirtioDevice"/>: vendor
/// 0x1AF4, device 0x1040 + type, vendor capabilities pointing at the common, notify, ISR and device-specific
/// structures in one 64-bit memory BAR, MSI-X (one vector per queue plus one for configuration changes) with
/// INTx as the fallback, and the PCI configuration access capability.
/// </summary>
/// <remarks>
/// <para>BAR 0 layout (32 KiB, each structure on its own 4 KiB page): common configuration at 0x0000, ISR at
/// 0x1000, device configuration at 0x2000, queue notifications at 0x3000 (queue N at 0x3000 + 4N), MSI-X table at
/// 0x4000 and PBA at 0x5000.</para>
/// <para>Engine seams: <see cref="QueueNotifyLocation"/> says where to register each queue's ioeventfd, and the
/// ioeventfd thread calls <see cref="Notify"/>; a notification that arrives as an ordinary MMIO write (no
/// ioeventfd) reaches the same method. Interrupts leave through <see cref="IMsiTarget"/> or the INTx line.</para>
/// <para>Threads: vCPU threads program registers under the register lock; device workers only raise interrupts
/// (interrupt lock, then the MSI-X or INTx lock) and flag errors with interlocked writes, so a reset can hold the
/// register lock while it waits for the workers to stop.</para>
/// </remarks>
public sealed partial class VirtioPciDevice : PciFunction, IVirtioTransport, IDisposable
{
    public const ushort VirtioVendorId = 0x1AF4;
    public const ushort ModernDeviceIdBase = 0x1040;
    /// <summary>Non-transitional devices use a subsystem ID of 0x40 or more (virtio 1.2, 4.1.2.1).</summary>
    public const ushort ModernSubsystemId = 0x40;
    public const byte ModernRevision = 1;
    public const ushort NoVector = 0xFFFF;

    public const int SettingsBar = 0;
    public const ulong SettingsBarSize = 0x8000;
    public const ulong CommonConfigOffset = 0x0000;
    public const ulong IsrOffset = 0x1000;
    public const ulong DeviceConfigOffset = 0x2000;
    public const ulong NotifyOffset = 0x3000;
    public const uint NotifyOffsetMultiplier = 4;
    public const ulong MsixTableOffset = 0x4000;
    public const ulong MsixPbaOffset = 0x5000;
    private const ulong RegionSize = 0x1000;
    private const int MaxVectors = (int)(RegionSize / MsixController.EntrySize);

    private const byte CapCommon = 1, CapNotify = 2, CapIsr = 3, CapDevice = 4, CapPciConfig = 5;
    private const byte IsrQueue = 1, IsrConfig = 2;

    private readonly IVirtioDevice _device;
    private readonly IGuestMemory _memory;
    private readonly VirtQueue[] _queues;
    private readonly ushort[] _queueVectors;
    private readonly Lock _registerLock = new();
    private readonly Lock _interruptLock = new();
    private readonly int _pciConfigCap;
    private byte _isr;
    private int _needsReset;
    private int _configGeneration;
    private long _deviceErrors;
    private long _notifications;
    private volatile bool _running;
    private bool _disposed;

    public VirtioPciDevice(IVirtioDevice device, IGuestMemory memory, IMsiTarget msi, IInterruptLine? intx)
        : base(new PciConfigSpace(VirtioVendorId, (ushort)(ModernDeviceIdBase + (ushort)device.DeviceType),
            ClassCodeOf(device.DeviceType), ModernRevision), intx)
    {
        _device = device;
        _memory = memory;
        int queueCount = device.QueueMaxSizes.Count;
        if (queueCount + 1 > MaxVectors || (ulong)device.ConfigSize > RegionSize)
        {
            throw new ArgumentException("The device has more queues or configuration than the transport's layout holds.", nameof(device));
        }

        _queues = new VirtQueue[queueCount];
        for (int i = 0; i < queueCount; i++)
        {
            _queues[i] = new VirtQueue(i, device.QueueMaxSizes[i]);
        }

        _queueVectors = new ushort[queueCount];
        _queueVectors.AsSpan().Fill(NoVector);
        _configVectorField = NoVector;

        Config.SetWord(PciRegisters.SubsystemVendorId, VirtioVendorId);
        Config.SetWord(PciRegisters.SubsystemId, ModernSubsystemId);
        AddMemoryBar(SettingsBar, SettingsBarSize, is64Bit: true);
        AddMsixCapability(new MsixController(queueCount + 1, msi,
            new PciBarLocation(SettingsBar, MsixTableOffset), new PciBarLocation(SettingsBar, MsixPbaOffset)));
        AddVirtioCapability(CapCommon, CommonConfigOffset, CommonConfigLength);
        AddVirtioCapability(CapNotify, NotifyOffset, (uint)(queueCount * NotifyOffsetMultiplier), NotifyOffsetMultiplier);
        AddVirtioCapability(CapIsr, IsrOffset, 1);
        if (device.ConfigSize > 0)
        {
            AddVirtioCapability(CapDevice, DeviceConfigOffset, (uint)device.ConfigSize);
        }

        _pciConfigCap = AddVirtioCapability(CapPciConfig, 0, 0, extra: 0);
        // The configuration access window: the driver picks BAR, offset and length, then reads or writes the data.
        Config.MakeWritable(_pciConfigCap + 4, 1, 0xFF);
        Config.MakeWritable(_pciConfigCap + 8, 12, ulong.MaxValue);
        Config.MakeWritable(_pciConfigCap + 16, 4, 0xFFFF_FFFF);
    }

    public IVirtioDevice Device => _device;

    /// <summary>Times the device went to DEVICE_NEEDS_RESET since it was created.</summary>
    public long DeviceErrors => Interlocked.Read(ref _deviceErrors);

    /// <summary>Why the device last went to DEVICE_NEEDS_RESET.</summary>
    public string? LastDeviceError { get; private set; }

    /// <summary>Queue notifications accepted (ioeventfd or MMIO).</summary>
    public long Notifications => Interlocked.Read(ref _notifications);

    /// <summary>The device status register as the driver reads it.</summary>
    public VirtioDeviceStatus Status
    {
        get
        {
            lock (_registerLock)
            {
                return CurrentStatus;
            }
        }
    }

    public int QueueCount => _queues.Length;

    /// <summary>
    /// Where queue <paramref name="queueIndex"/>'s notify register is: the engine registers an ioeventfd at the BAR's
    /// address + this offset (Linux writes the queue index there as 16 bits; match any length or 2 bytes, no data).
    /// </summary>
    public PciBarLocation QueueNotifyLocation(int queueIndex)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)queueIndex, (uint)_queues.Length, nameof(queueIndex));
        return new PciBarLocation(SettingsBar, NotifyOffset + ((ulong)queueIndex * NotifyOffsetMultiplier));
    }

    /// <summary>
    /// The driver notified queue <paramref name="queueIndex"/>. Called by the engine's ioeventfd thread (or by the
    /// MMIO write path); cheap and non-blocking: it only wakes the device's worker. Ignored until DRIVER_OK, for
    /// queues the driver did not enable, and while the device needs a reset.
    /// </summary>
    public void Notify(int queueIndex)
    {
        if (!_running || (uint)queueIndex >= (uint)_queues.Length || !_queues[queueIndex].IsActive ||
            Volatile.Read(ref _needsReset) != 0)
        {
            return;
        }

        Interlocked.Increment(ref _notifications);
        _device.QueueNotified(queueIndex);
    }

    public void SignalUsedBuffers(int queueIndex)
    {
        ushort vector = (uint)queueIndex < (uint)_queueVectors.Length ? Volatile.Read(ref _queueVectors[queueIndex]) : NoVector;
        if (Msix!.Trigger(vector))
        {
            return; // MSI-X is on: the vector was sent, held pending, or is NO_VECTOR (the driver polls)
        }

        lock (_interruptLock)
        {
            _isr |= IsrQueue;
            SetIntxPending(true);
        }
    }

    public void SignalConfigChanged()
    {
        Interlocked.Increment(ref _configGeneration);
        RaiseConfigInterrupt();
    }

    public void ReportDeviceError(string reason)
    {
        if (Interlocked.Exchange(ref _needsReset, 1) != 0)
        {
            return;
        }

        Interlocked.Increment(ref _deviceErrors);
        LastDeviceError = reason;
        RaiseConfigInterrupt();
    }

    public void Dispose()
    {
        lock (_registerLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            ResetTransport();
        }

        _device.Dispose();
    }

    protected override void OnBarRead(int barIndex, ulong offset, Span<byte> data)
    {
        switch (offset)
        {
            case < CommonConfigOffset + RegionSize:
                ReadCommonConfig((int)offset, data);
                break;
            case < IsrOffset + RegionSize when offset == IsrOffset && data.Length == 1:
                data[0] = ReadAndClearIsr();
                break;
            case < DeviceConfigOffset + RegionSize when offset - DeviceConfigOffset + (ulong)data.Length <= (ulong)_device.ConfigSize:
                _device.ReadConfig((int)(offset - DeviceConfigOffset), data);
                break;
            case >= MsixTableOffset and < MsixTableOffset + RegionSize:
                Msix!.ReadTable(offset - MsixTableOffset, data);
                break;
            case >= MsixPbaOffset and < MsixPbaOffset + RegionSize:
                Msix!.ReadPba(offset - MsixPbaOffset, data);
                break;
            default:
                // Notify registers read as zero; anything else is a hole.
                if (offset is < NotifyOffset or >= NotifyOffset + RegionSize)
                {
                    CountBadAccess();
                }

                data.Clear();
                break;
        }
    }

    protected override void OnBarWritten(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
        switch (offset)
        {
            case < CommonConfigOffset + RegionSize:
                WriteCommonConfig((int)offset, data);
                break;
            case < DeviceConfigOffset + RegionSize when offset >= DeviceConfigOffset &&
                offset - DeviceConfigOffset + (ulong)data.Length <= (ulong)_device.ConfigSize:
                _device.WriteConfig((int)(offset - DeviceConfigOffset), data);
                break;
            case >= NotifyOffset and < NotifyOffset + RegionSize
                when (offset - NotifyOffset) % NotifyOffsetMultiplier == 0 && (offset - NotifyOffset) / NotifyOffsetMultiplier < (ulong)_queues.Length:
                Notify((int)((offset - NotifyOffset) / NotifyOffsetMultiplier));
                break;
            case >= MsixTableOffset and < MsixTableOffset + RegionSize:
                Msix!.WriteTable(offset - MsixTableOffset, data);
                break;
            case >= MsixPbaOffset and < MsixPbaOffset + RegionSize:
                Msix!.WritePba(offset - MsixPbaOffset, data);
                break;
            default:
                CountBadAccess();
                break;
        }
    }

    /// <summary>Reads through the configuration access capability reach the BAR the driver selected.</summary>
    protected override void OnConfigRead(int offset, Span<byte> data)
    {
        int window = _pciConfigCap + 16;
        if (!Overlaps(offset, offset + data.Length, window, 4) || !TryGetConfigWindow(out int bar, out ulong barOffset, out int length))
        {
            return;
        }

        Span<byte> value = stackalloc byte[4];
        value.Clear();
        ReadBar(bar, barOffset, value[..length]);
        for (int i = 0; i < data.Length; i++)
        {
            int at = offset + i - window;
            if (at is >= 0 and < 4)
            {
                data[i] = value[at];
            }
        }
    }

    protected override void OnConfigWritten(int offset, int length)
    {
        int window = _pciConfigCap + 16;
        if (Overlaps(offset, offset + length, window, 4) && TryGetConfigWindow(out int bar, out ulong barOffset, out int size))
        {
            Span<byte> value = stackalloc byte[4];
            Config.Bytes.Slice(window, 4).CopyTo(value);
            WriteBar(bar, barOffset, value[..size]);
        }
    }

    private bool TryGetConfigWindow(out int bar, out ulong offset, out int length)
    {
        bar = Config.ReadByte(_pciConfigCap + 4);
        offset = Config.ReadDword(_pciConfigCap + 8);
        length = (int)Config.ReadDword(_pciConfigCap + 12);
        return bar == SettingsBar && length is 1 or 2 or 4;
    }

    private byte ReadAndClearIsr()
    {
        lock (_interruptLock)
        {
            byte isr = _isr;
            _isr = 0;
            SetIntxPending(false);
            return isr;
        }
    }

    private void RaiseConfigInterrupt()
    {
        lock (_interruptLock)
        {
            _isr |= IsrConfig;
            if (!Msix!.Trigger(Volatile.Read(ref _configVectorField)))
            {
                SetIntxPending(true);
            }
        }
    }

    private int AddVirtioCapability(byte type, ulong offset, uint length, uint? extra = null)
    {
        // virtio_pci_cap after the ID and next pointer: cap_len, cfg_type, bar, id, padding[2], offset, length.
        Span<byte> body = stackalloc byte[extra is null ? 14 : 18];
        body.Clear();
        body[0] = (byte)(body.Length + 2);
        body[1] = type;
        body[2] = SettingsBar;
        BinaryPrimitives.WriteUInt32LittleEndian(body[6..], (uint)offset);
        BinaryPrimitives.WriteUInt32LittleEndian(body[10..], length);
        if (extra is { } value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(body[14..], value);
        }

        return Config.AddCapability(PciRegisters.CapabilityIdVendor, body);
    }

    private static uint ClassCodeOf(VirtioDeviceType type) => type switch
    {
        VirtioDeviceType.Network => 0x02_00_00,  // Ethernet controller
        VirtioDeviceType.Block => 0x01_00_00,    // SCSI storage, as QEMU's virtio-blk
        VirtioDeviceType.Console => 0x07_80_00,  // communication, other
        VirtioDeviceType.Input => 0x09_80_00,    // input, other
        _ => 0x00_FF_00,                         // unclassified, as QEMU's virtio-rng
    };
}
