using System.Buffers.Binary;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio;

// The common configuration structure (virtio_pci_common_cfg, virtio 1.2 4.1.4.3): feature negotiation, the status
// machine, and per-queue setup through queue_select.
public sealed partial class VirtioPciDevice
{
    public const uint CommonConfigLength = 0x38;

    private const int DeviceFeatureSelect = 0x00, DeviceFeature = 0x04, DriverFeatureSelect = 0x08, DriverFeature = 0x0C;
    private const int ConfigMsixVector = 0x10, NumQueues = 0x12, DeviceStatus = 0x14, ConfigGeneration = 0x15;
    private const int QueueSelect = 0x16, QueueSize = 0x18, QueueMsixVector = 0x1A, QueueEnable = 0x1C, QueueNotifyOff = 0x1E;
    private const int QueueDesc = 0x20, QueueDriver = 0x28, QueueDevice = 0x30;

    private uint _deviceFeatureSelect;
    private uint _driverFeatureSelect;
    private ulong _driverFeatures;
    private ulong _negotiatedFeatures;
    private VirtioDeviceStatus _status;
    private ushort _queueSelect;
    private ushort _configVectorField;

    /// <summary>Everything the device offers: its own bits plus what the transport and our queues implement.</summary>
    public ulong OfferedFeatures => _device.DeviceFeatures | VirtioFeatures.Transport;

    /// <summary>The features agreed at FEATURES_OK (0 before).</summary>
    public ulong NegotiatedFeatures
    {
        get
        {
            lock (_registerLock)
            {
                return _negotiatedFeatures;
            }
        }
    }

    private ushort ConfigVector
    {
        get => _configVectorField;
        set => Volatile.Write(ref _configVectorField, value);
    }

    private VirtioDeviceStatus CurrentStatus =>
        _status | (Volatile.Read(ref _needsReset) != 0 ? VirtioDeviceStatus.DeviceNeedsReset : VirtioDeviceStatus.None);

    private VirtQueue? SelectedQueue => _queueSelect < _queues.Length ? _queues[_queueSelect] : null;

    private void ReadCommonConfig(int offset, Span<byte> data)
    {
        if ((uint)offset + (uint)data.Length > CommonConfigLength)
        {
            CountBadAccess();
            data.Clear();
            return;
        }

        // Reads may take any width inside the structure: render it once and copy the slice asked for.
        Span<byte> image = stackalloc byte[(int)CommonConfigLength];
        lock (_registerLock)
        {
            ulong offered = OfferedFeatures;
            BinaryPrimitives.WriteUInt32LittleEndian(image[DeviceFeatureSelect..], _deviceFeatureSelect);
            BinaryPrimitives.WriteUInt32LittleEndian(image[DeviceFeature..], FeatureWord(offered, _deviceFeatureSelect));
            BinaryPrimitives.WriteUInt32LittleEndian(image[DriverFeatureSelect..], _driverFeatureSelect);
            BinaryPrimitives.WriteUInt32LittleEndian(image[DriverFeature..], FeatureWord(_driverFeatures, _driverFeatureSelect));
            BinaryPrimitives.WriteUInt16LittleEndian(image[ConfigMsixVector..], ConfigVector);
            BinaryPrimitives.WriteUInt16LittleEndian(image[NumQueues..], (ushort)_queues.Length);
            image[DeviceStatus] = (byte)CurrentStatus;
            image[ConfigGeneration] = (byte)Volatile.Read(ref _configGeneration);
            BinaryPrimitives.WriteUInt16LittleEndian(image[QueueSelect..], _queueSelect);
            if (SelectedQueue is { } queue)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(image[QueueSize..], queue.Size);
                BinaryPrimitives.WriteUInt16LittleEndian(image[QueueMsixVector..], _queueVectors[_queueSelect]);
                BinaryPrimitives.WriteUInt16LittleEndian(image[QueueEnable..], queue.Enabled ? (ushort)1 : (ushort)0);
                BinaryPrimitives.WriteUInt16LittleEndian(image[QueueNotifyOff..], _queueSelect);
                BinaryPrimitives.WriteUInt64LittleEndian(image[QueueDesc..], queue.DescriptorTable);
                BinaryPrimitives.WriteUInt64LittleEndian(image[QueueDriver..], queue.DriverArea);
                BinaryPrimitives.WriteUInt64LittleEndian(image[QueueDevice..], queue.DeviceArea);
            }
            else
            {
                // A queue_size of 0 tells the driver the queue does not exist.
                image[QueueSize..].Clear();
            }
        }

        image.Slice(offset, data.Length).CopyTo(data);
    }

    private void WriteCommonConfig(int offset, ReadOnlySpan<byte> data)
    {
        lock (_registerLock)
        {
            if (_disposed || !TryWriteCommonConfig(offset, data))
            {
                CountBadAccess();
            }
        }
    }

    /// <summary>Applies one register write; false for a wrong width, a read-only field or a write the state forbids.</summary>
    private bool TryWriteCommonConfig(int offset, ReadOnlySpan<byte> data)
    {
        uint value = data.Length switch
        {
            1 => data[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(data),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(data),
            _ => 0,
        };

        switch (offset, data.Length)
        {
            case (DeviceFeatureSelect, 4):
                _deviceFeatureSelect = value;
                return true;
            case (DriverFeatureSelect, 4):
                _driverFeatureSelect = value;
                return true;
            case (DriverFeature, 4):
                return WriteDriverFeatures(value);
            case (ConfigMsixVector, 2):
                ConfigVector = CheckedVector(value);
                return true;
            case (DeviceStatus, 1):
                WriteStatus((byte)value);
                return true;
            case (QueueSelect, 2):
                _queueSelect = (ushort)value;
                return true;
            case (QueueSize, 2) when CanProgramQueue(out var queue):
                queue.Size = (ushort)value; // checked when the driver sets DRIVER_OK
                return true;
            case (QueueMsixVector, 2) when SelectedQueue is not null:
                Volatile.Write(ref _queueVectors[_queueSelect], CheckedVector(value));
                return true;
            case (QueueEnable, 2) when CanProgramQueue(out var queue):
                // Only 1 means anything: a driver disables a queue by resetting the device.
                queue.Enabled = value == 1;
                return value == 1;
            case (>= QueueDesc and < QueueDevice + 8, 4 or 8) when offset % data.Length == 0 && CanProgramQueue(out var queue):
                WriteQueueAddress(queue, offset, data);
                return true;
            default:
                return false;
        }
    }

    private bool CanProgramQueue(out VirtQueue queue)
    {
        queue = SelectedQueue!;
        // The layout is fixed once the queue is enabled (virtio 1.2 4.1.4.3.2: the driver MUST configure the other
        // queue fields before enabling it).
        return queue is not null && !queue.Enabled && !_running;
    }

    private static void WriteQueueAddress(VirtQueue queue, int offset, ReadOnlySpan<byte> data)
    {
        int field = offset & ~7;
        ulong current = field switch
        {
            QueueDesc => queue.DescriptorTable,
            QueueDriver => queue.DriverArea,
            _ => queue.DeviceArea,
        };

        ulong updated = data.Length == 8
            ? BinaryPrimitives.ReadUInt64LittleEndian(data)
            : (offset & 4) == 0
                ? (current & 0xFFFF_FFFF_0000_0000UL) | BinaryPrimitives.ReadUInt32LittleEndian(data)
                : (current & 0xFFFF_FFFFUL) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(data) << 32);

        switch (field)
        {
            case QueueDesc:
                queue.DescriptorTable = updated;
                break;
            case QueueDriver:
                queue.DriverArea = updated;
                break;
            default:
                queue.DeviceArea = updated;
                break;
        }
    }

    private bool WriteDriverFeatures(uint value)
    {
        if ((_status & VirtioDeviceStatus.FeaturesOk) != 0 || _driverFeatureSelect > 1)
        {
            return false; // features are fixed after FEATURES_OK; only two feature words exist
        }

        int shift = (int)(32 * _driverFeatureSelect);
        _driverFeatures = (_driverFeatures & ~(0xFFFF_FFFFUL << shift)) | ((ulong)value << shift);
        return true;
    }

    /// <summary>A vector the table has, or NO_VECTOR: the driver reads back NO_VECTOR to learn its choice failed.</summary>
    private ushort CheckedVector(uint value) => value < (uint)Msix!.VectorCount ? (ushort)value : NoVector;

    private void WriteStatus(byte value)
    {
        if (value == 0)
        {
            ResetTransport();
            return;
        }

        // The driver only adds bits (virtio 1.2 2.1.2); NEEDS_RESET is the device's to set.
        var requested = (_status | (VirtioDeviceStatus)value) & ~VirtioDeviceStatus.DeviceNeedsReset;
        bool featuresOkNow = (requested & ~_status & VirtioDeviceStatus.FeaturesOk) != 0;
        if (featuresOkNow)
        {
            if (FeaturesAcceptable(_driverFeatures))
            {
                _negotiatedFeatures = _driverFeatures;
            }
            else
            {
                // Leaving FEATURES_OK clear is how a device refuses (the driver reads it back, 3.1.1 step 6).
                requested &= ~VirtioDeviceStatus.FeaturesOk;
            }
        }

        bool driverOkNow = (requested & ~_status & VirtioDeviceStatus.DriverOk) != 0;
        if (driverOkNow && (requested & VirtioDeviceStatus.FeaturesOk) == 0)
        {
            CountBadAccess();
            requested &= ~VirtioDeviceStatus.DriverOk;
            driverOkNow = false;
        }

        _status = requested;
        if (driverOkNow)
        {
            ActivateDevice();
        }
    }

    private bool FeaturesAcceptable(ulong driverFeatures) =>
        (driverFeatures & ~OfferedFeatures) == 0 && (driverFeatures & VirtioFeatures.Version1) != 0;

    private void ActivateDevice()
    {
        var queues = new VirtQueue?[_queues.Length];
        for (int i = 0; i < _queues.Length; i++)
        {
            var queue = _queues[i];
            if (!queue.Enabled)
            {
                continue;
            }

            if (!queue.TryActivate(_memory, _negotiatedFeatures))
            {
                ReportDeviceError($"queue {i}: {queue.Fault} (size {queue.Size}, desc 0x{queue.DescriptorTable:x}, " +
                    $"driver 0x{queue.DriverArea:x}, device 0x{queue.DeviceArea:x})");
                return;
            }

            queues[i] = queue;
        }

        _device.Activate(new VirtioActivation(_memory, _negotiatedFeatures, queues, this));
        _running = true;
    }

    /// <summary>Device reset (status 0): stop the device's workers, then forget everything the driver set up.</summary>
    private void ResetTransport()
    {
        _running = false;
        _device.Reset();
        foreach (var queue in _queues)
        {
            queue.Reset();
        }

        _queueVectors.AsSpan().Fill(NoVector);
        ConfigVector = NoVector;
        _deviceFeatureSelect = _driverFeatureSelect = 0;
        _driverFeatures = _negotiatedFeatures = 0;
        _queueSelect = 0;
        _status = VirtioDeviceStatus.None;
        Volatile.Write(ref _needsReset, 0);
        lock (_interruptLock)
        {
            _isr = 0;
            SetIntxPending(false);
        }
    }

    private static uint FeatureWord(ulong features, uint select) => select switch
    {
        0 => (uint)features,
        1 => (uint)(features >> 32),
        _ => 0,
    };
}
