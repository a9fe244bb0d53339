using System.Buffers.Binary;

namespace Platform.Devices.Virtio.Input;

/// <summary>
/// One <c>virtio_input_event</c> (virtio 1.2, 5.8.6): le16 type, le16 code, le32 value — the layout of Linux's
/// <c>struct input_event</c> without its timestamp. The device writes these into eventq buffers; the driver writes
/// them into statusq buffers (LED changes).
/// </summary>
public readonly record struct InputEvent(ushort Type, ushort Code, int Value)
{
    public const int Size = 8;

    /// <summary>EV_SYN / SYN_REPORT: ends a report.</summary>
    public static InputEvent SyncReport => new(LinuxInput.EventSync, LinuxInput.SyncReport, 0);

    public bool IsSyncReport => Type == LinuxInput.EventSync && Code == LinuxInput.SyncReport;

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, Type);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], Code);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], Value);
    }

    public static InputEvent ReadFrom(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(source),
        BinaryPrimitives.ReadUInt16LittleEndian(source[2..]),
        BinaryPrimitives.ReadInt32LittleEndian(source[4..]));

    public override string ToString() => $"type {Type} code {Code} value {Value}";
}
