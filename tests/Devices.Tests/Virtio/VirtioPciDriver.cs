using System.Buffers.Binary;
using Platform.Devices.Pci;
using Platform.Devices.Virtio;

namespace Platform.Devices.Tests.Virtio;

/// <summary>
/// A virtio-pci driver as Linux's virtio_pci_modern is, for tests: registers through BAR 0 (as the MMIO bus would
/// deliver them), the initialization sequence of virtio 1.2 3.1.1, queues from <see cref="FakeVirtQueue"/>s, and
/// MSI-X vectors 0x40 + N delivered to a recording target.
/// </summary>
public sealed class VirtioPciDriver(VirtioPciDevice device)
{
    public const ushort QueueSelect = 0x16, QueueSize = 0x18, QueueVector = 0x1A, QueueEnable = 0x1C;
    public const ushort ConfigVectorRegister = 0x10, StatusRegister = 0x14, GenerationRegister = 0x15;

    public VirtioPciDevice Device { get; } = device;

    public byte Read8(ulong offset)
    {
        Span<byte> b = stackalloc byte[1];
        Device.ReadBar(0, offset, b);
        return b[0];
    }

    public ushort Read16(ulong offset)
    {
        Span<byte> b = stackalloc byte[2];
        Device.ReadBar(0, offset, b);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }

    public uint Read32(ulong offset)
    {
        Span<byte> b = stackalloc byte[4];
        Device.ReadBar(0, offset, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    public void Write8(ulong offset, byte value) => Device.WriteBar(0, offset, [value]);

    public void Write16(ulong offset, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        Device.WriteBar(0, offset, b);
    }

    public void Write32(ulong offset, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        Device.WriteBar(0, offset, b);
    }

    public VirtioDeviceStatus Status
    {
        get => (VirtioDeviceStatus)Read8(StatusRegister);
        set => Write8(StatusRegister, (byte)value);
    }

    public ulong ReadDeviceFeatures()
    {
        Write32(0x00, 0);
        ulong low = Read32(0x04);
        Write32(0x00, 1);
        return low | ((ulong)Read32(0x04) << 32);
    }

    public void WriteDriverFeatures(ulong features)
    {
        Write32(0x08, 0);
        Write32(0x0C, (uint)features);
        Write32(0x08, 1);
        Write32(0x0C, (uint)(features >> 32));
    }

    /// <summary>Sets MSI-X Enable and programs every vector to 0xFEE00000 / 0x40 + N, unmasked.</summary>
    public void EnableMsix()
    {
        int cap = FindCapability(PciRegisters.CapabilityIdMsix);
        Span<byte> control = stackalloc byte[2];
        Device.ReadConfig(cap + 2, control);
        int vectors = (BinaryPrimitives.ReadUInt16LittleEndian(control) & 0x7FF) + 1;
        for (int v = 0; v < vectors; v++)
        {
            ulong entry = VirtioPciDevice.MsixTableOffset + (ulong)(16 * v);
            Write32(entry, 0xFEE0_0000);
            Write32(entry + 4, 0);
            Write32(entry + 8, (uint)(0x40 + v));
            Write32(entry + 12, 0);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(control, MsixController.ControlEnable);
        Device.WriteConfig(cap + 2, control);
    }

    public int FindCapability(byte id, int skip = 0)
    {
        Span<byte> b = stackalloc byte[1];
        Device.ReadConfig(PciRegisters.CapabilitiesPointer, b);
        int offset = b[0];
        while (offset != 0)
        {
            Device.ReadConfig(offset, b);
            if (b[0] == id && skip-- == 0)
            {
                return offset;
            }

            Device.ReadConfig(offset + 1, b);
            offset = b[0];
        }

        return 0;
    }

    /// <summary>Programs queue <paramref name="index"/> from <paramref name="queue"/> (addresses as two dword writes, as Linux does) and enables it.</summary>
    public void SetupQueue(int index, FakeVirtQueue queue, ushort vector)
    {
        Write16(QueueSelect, (ushort)index);
        Write16(QueueSize, queue.Size);
        WriteAddress(0x20, queue.DescriptorTable);
        WriteAddress(0x28, queue.AvailRing);
        WriteAddress(0x30, queue.UsedRing);
        Write16(QueueVector, vector);
        Write16(QueueEnable, 1);
    }

    /// <summary>
    /// The whole initialization: reset, ACKNOWLEDGE, DRIVER, features (all offered unless given), FEATURES_OK, MSI-X
    /// (vector N+1 for queue N, 0 for configuration) when asked, queues, DRIVER_OK. Returns the final status.
    /// </summary>
    public VirtioDeviceStatus Initialize(bool msix, ulong? features, params FakeVirtQueue?[] queues)
    {
        Status = VirtioDeviceStatus.None;
        Status = VirtioDeviceStatus.Acknowledge;
        Status |= VirtioDeviceStatus.Driver;
        WriteDriverFeatures(features ?? ReadDeviceFeatures());
        Status |= VirtioDeviceStatus.FeaturesOk;
        if ((Status & VirtioDeviceStatus.FeaturesOk) == 0)
        {
            return Status;
        }

        if (msix)
        {
            EnableMsix();
            Write16(ConfigVectorRegister, 0);
        }

        for (int i = 0; i < queues.Length; i++)
        {
            if (queues[i] is { } queue)
            {
                SetupQueue(i, queue, msix ? (ushort)(i + 1) : VirtioPciDevice.NoVector);
            }
        }

        Status |= VirtioDeviceStatus.DriverOk;
        return Status;
    }

    /// <summary>A notification as an MMIO write to the queue's notify register (the path without an ioeventfd).</summary>
    public void Notify(int queueIndex) =>
        Write16(Device.QueueNotifyLocation(queueIndex).Offset, (ushort)queueIndex);

    private void WriteAddress(ulong offset, ulong value)
    {
        Write32(offset, (uint)value);
        Write32(offset + 4, (uint)(value >> 32));
    }
}
