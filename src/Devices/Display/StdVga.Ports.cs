using System.Buffers.Binary;
using Platform.Devices.Abstractions;

namespace Platform.Devices.Display;

// The three bus views of the device, and how each access width is split, as QEMU's memory core splits them.
public sealed partial class StdVga
{
    private void ReadDispiPort(ulong offset, Span<byte> data)
    {
        lock (_lock)
        {
            // The DISPI ports are 16-bit only; QEMU ignores byte accesses to them.
            if (data.Length != 2 || offset > DispiDataPortAlias)
            {
                CountBadAccess();
                data.Clear();
                return;
            }

            ushort value = offset == DispiIndexPort ? _index : ReadDispiData();
            BinaryPrimitives.WriteUInt16LittleEndian(data, value);
        }
    }

    private void WriteDispiPort(ulong offset, ReadOnlySpan<byte> data)
    {
        bool changed = false;
        DisplayMode mode;
        lock (_lock)
        {
            if (data.Length != 2 || offset > DispiDataPortAlias)
            {
                CountBadAccess();
                return;
            }

            ushort value = BinaryPrimitives.ReadUInt16LittleEndian(data);
            if (offset == DispiIndexPort)
            {
                _index = value;
            }
            else
            {
                WriteRegister(_index, value);
                changed = UpdateMode();
            }

            mode = _mode;
        }

        RaiseIfChanged(changed, mode);
    }

    private void ReadMmio(ulong offset, Span<byte> data)
    {
        lock (_lock)
        {
            if (data.Length is not (1 or 2 or 4) || offset > MmioBarSize - (ulong)data.Length)
            {
                CountBadAccess();
                data.Clear();
                return;
            }

            if (offset < MmioEdidEnd)
            {
                // No EDID blob: a zero header tells Linux to fall back to its standard mode list, as with QEMU's edid=off.
                data.Clear();
            }
            else if (offset < MmioVgaPorts + VgaPortCount)
            {
                int port = (int)(offset - MmioVgaPorts);
                for (int i = 0; i < data.Length; i++)
                {
                    data[i] = port + i < (int)VgaPortCount ? ReadVgaPort(port + i) : (byte)0;
                }
            }
            else if (offset is >= MmioDispi and < MmioDispiEnd)
            {
                ReadMmioDispi(offset, data);
            }
            else if (offset is >= MmioQemuExtension and < MmioQemuExtensionEnd && data.Length == 4 && (offset & 3) == 0)
            {
                uint value = offset == QextSizeRegister
                    ? QextSize
                    : _bigEndianFramebuffer ? QextBigEndian : QextLittleEndian;
                BinaryPrimitives.WriteUInt32LittleEndian(data, value);
            }
            else
            {
                CountBadAccess();
                data.Clear();
            }
        }
    }

    private void WriteMmio(ulong offset, ReadOnlySpan<byte> data)
    {
        bool changed = false;
        DisplayMode mode;
        lock (_lock)
        {
            if (data.Length is not (1 or 2 or 4) || offset > MmioBarSize - (ulong)data.Length || offset < MmioEdidEnd)
            {
                CountBadAccess();
                return;
            }

            if (offset < MmioVgaPorts + VgaPortCount)
            {
                int port = (int)(offset - MmioVgaPorts);
                for (int i = 0; i < data.Length && port + i < (int)VgaPortCount; i++)
                {
                    WriteVgaPort(port + i, data[i]);
                }
            }
            else if (offset is >= MmioDispi and < MmioDispiEnd)
            {
                WriteMmioDispi(offset, data);
            }
            else if (offset == QextByteOrderRegister && data.Length == 4)
            {
                uint value = BinaryPrimitives.ReadUInt32LittleEndian(data);
                if (value == QextBigEndian)
                {
                    _bigEndianFramebuffer = true;
                }
                else if (value == QextLittleEndian)
                {
                    _bigEndianFramebuffer = false;
                }
                else
                {
                    IgnoredWrites++;
                }
            }
            else if (offset == QextSizeRegister && data.Length == 4)
            {
                IgnoredWrites++;
            }
            else
            {
                CountBadAccess();
            }

            changed = UpdateMode();
            mode = _mode;
        }

        RaiseIfChanged(changed, mode);
    }

    /// <summary>
    /// DISPI register n sits at 0x500 + 2n as a 16-bit register. A byte access reaches the register at offset / 2 (the
    /// low byte on read, zero-extended on write) and a 32-bit access two consecutive registers, as QEMU widens and
    /// splits them. The access also selects the register in the index port, as QEMU's MMIO path does.
    /// </summary>
    private void ReadMmioDispi(ulong offset, Span<byte> data)
    {
        for (int part = 0; part < data.Length; part += 2)
        {
            ulong at = offset + (ulong)part;
            ushort value = 0;
            if (at < MmioDispiEnd)
            {
                _index = (ushort)((at - MmioDispi) >> 1);
                value = ReadDispiData();
            }

            if (data.Length == 1)
            {
                data[0] = (byte)value;
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(data[part..], value);
            }
        }
    }

    private void WriteMmioDispi(ulong offset, ReadOnlySpan<byte> data)
    {
        for (int part = 0; part < data.Length; part += 2)
        {
            ulong at = offset + (ulong)part;
            if (at >= MmioDispiEnd)
            {
                break;
            }

            ushort value = data.Length == 1 ? data[0] : BinaryPrimitives.ReadUInt16LittleEndian(data[part..]);
            _index = (ushort)((at - MmioDispi) >> 1);
            WriteRegister(_index, value);
        }
    }

    private void ReadVgaPorts(ulong offset, Span<byte> data)
    {
        lock (_lock)
        {
            // Byte ports; a 16-bit access is two byte accesses (index, then data), as QEMU's port I/O splits it.
            if (data.Length is not (1 or 2) || offset > VgaPortCount - (ulong)data.Length)
            {
                CountBadAccess();
                data.Clear();
                return;
            }

            for (int i = 0; i < data.Length; i++)
            {
                data[i] = ReadVgaPort((int)offset + i);
            }
        }
    }

    private void WriteVgaPorts(ulong offset, ReadOnlySpan<byte> data)
    {
        bool changed;
        DisplayMode mode;
        lock (_lock)
        {
            if (data.Length is not (1 or 2) || offset > VgaPortCount - (ulong)data.Length)
            {
                CountBadAccess();
                return;
            }

            for (int i = 0; i < data.Length; i++)
            {
                WriteVgaPort((int)offset + i, data[i]);
            }

            changed = UpdateMode();
            mode = _mode;
        }

        RaiseIfChanged(changed, mode);
    }

    private sealed class DispiPortView(StdVga vga) : IBusDevice
    {
        public void Read(ulong offset, Span<byte> data) => vga.ReadDispiPort(offset, data);

        public void Write(ulong offset, ReadOnlySpan<byte> data) => vga.WriteDispiPort(offset, data);
    }

    private sealed class MmioView(StdVga vga) : IBusDevice
    {
        public void Read(ulong offset, Span<byte> data) => vga.ReadMmio(offset, data);

        public void Write(ulong offset, ReadOnlySpan<byte> data) => vga.WriteMmio(offset, data);
    }

    private sealed class VgaPortView(StdVga vga) : IBusDevice
    {
        public void Read(ulong offset, Span<byte> data) => vga.ReadVgaPorts(offset, data);

        public void Write(ulong offset, ReadOnlySpan<byte> data) => vga.WriteVgaPorts(offset, data);
    }
}
