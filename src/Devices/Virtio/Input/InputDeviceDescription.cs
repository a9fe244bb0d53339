using System.Buffers.Binary;
using System.Text;

namespace Platform.Devices.Virtio.Input;

/// <summary>The IDs a virtio-input device reports for VIRTIO_INPUT_CFG_ID_DEVIDS (Linux's <c>struct input_id</c>).</summary>
public readonly record struct InputDeviceIds(ushort BusType, ushort Vendor, ushort Product, ushort Version);

/// <summary>An absolute axis as VIRTIO_INPUT_CFG_ABS_INFO reports it (Linux's <c>struct input_absinfo</c> without the value).</summary>
public readonly record struct AbsoluteAxisInfo(int Min, int Max, int Fuzz = 0, int Flat = 0, int Resolution = 0);

/// <summary>
/// What a virtio-input device says about itself through the select/subsel protocol of its configuration space
/// (virtio 1.2, 5.8.5): name, serial, IDs, property bits, the codes it reports for each event type, and the range
/// of each absolute axis. Each (select, subsel) pair has an answer — bytes for <c>u</c> and their count as
/// <c>size</c> — or none, which the driver sees as size 0.
/// </summary>
/// <remarks>
/// Built once, before it is handed to a device; the device freezes it, and later changes throw. Lookups allocate
/// nothing, but they happen only when the driver selects something (at probe time), never per event.
/// </remarks>
public sealed class InputDeviceDescription
{
    public const byte SelectUnset = 0x00;
    public const byte SelectName = 0x01;
    public const byte SelectSerial = 0x02;
    public const byte SelectDeviceIds = 0x03;
    public const byte SelectPropertyBits = 0x10;
    public const byte SelectEventBits = 0x11;
    public const byte SelectAbsoluteInfo = 0x12;

    /// <summary>The size of the configuration union <c>u</c>: the longest answer.</summary>
    public const int MaxAnswerLength = 128;

    private const int AbsoluteInfoLength = 20;

    private readonly Dictionary<int, byte[]> _answers = [];
    private bool _frozen;

    /// <param name="name">VIRTIO_INPUT_CFG_ID_NAME: what Linux shows as the input device's name (ASCII, up to 128 bytes).</param>
    /// <param name="ids">VIRTIO_INPUT_CFG_ID_DEVIDS.</param>
    /// <param name="serial">VIRTIO_INPUT_CFG_ID_SERIAL (Linux's <c>uniq</c>); none when null, as QEMU without <c>serial=</c>.</param>
    public InputDeviceDescription(string name, InputDeviceIds ids, string? serial = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        Name = name;
        Ids = ids;
        Serial = serial;
        SetAnswer(SelectName, 0, AsciiString(name, nameof(name)));
        if (serial is not null)
        {
            SetAnswer(SelectSerial, 0, AsciiString(serial, nameof(serial)));
        }

        byte[] devids = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(devids, ids.BusType);
        BinaryPrimitives.WriteUInt16LittleEndian(devids.AsSpan(2), ids.Vendor);
        BinaryPrimitives.WriteUInt16LittleEndian(devids.AsSpan(4), ids.Product);
        BinaryPrimitives.WriteUInt16LittleEndian(devids.AsSpan(6), ids.Version);
        SetAnswer(SelectDeviceIds, 0, devids);
    }

    public string Name { get; }

    public string? Serial { get; }

    public InputDeviceIds Ids { get; }

    /// <summary>
    /// Declares that the device reports event type <paramref name="type"/> with these <paramref name="codes"/>
    /// (VIRTIO_INPUT_CFG_EV_BITS, subsel = type). No codes still declares the type with a one-byte empty bitmap:
    /// that is how a keyboard says it wants the guest's autorepeat (EV_REP), as QEMU's virtio-keyboard does.
    /// </summary>
    public InputDeviceDescription SupportEvents(ushort type, params ReadOnlySpan<ushort> codes)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(type, (ushort)byte.MaxValue, nameof(type));
        SetAnswer(SelectEventBits, (byte)type, Bitmap(codes));
        return this;
    }

    /// <summary>Declares input properties (VIRTIO_INPUT_CFG_PROP_BITS, INPUT_PROP_*).</summary>
    public InputDeviceDescription SupportProperties(params ReadOnlySpan<ushort> properties)
    {
        SetAnswer(SelectPropertyBits, 0, Bitmap(properties));
        return this;
    }

    /// <summary>Gives absolute axis <paramref name="axis"/>'s range (VIRTIO_INPUT_CFG_ABS_INFO, subsel = axis).</summary>
    public InputDeviceDescription SupportAbsoluteAxis(ushort axis, AbsoluteAxisInfo info)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(axis, (ushort)byte.MaxValue, nameof(axis));
        byte[] bytes = new byte[AbsoluteInfoLength];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, info.Min);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), info.Max);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), info.Fuzz);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), info.Flat);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), info.Resolution);
        SetAnswer(SelectAbsoluteInfo, (byte)axis, bytes);
        return this;
    }

    /// <summary>Whether EV_BITS for <paramref name="type"/> has <paramref name="code"/> set.</summary>
    public bool Reports(ushort type, ushort code) =>
        type <= byte.MaxValue && _answers.TryGetValue(Key(SelectEventBits, (byte)type), out byte[]? bitmap) &&
        code / 8 < bitmap.Length && (bitmap[code / 8] & (1 << (code % 8))) != 0;

    /// <summary>
    /// The answer for (<paramref name="select"/>, <paramref name="subsel"/>): copied into the front of
    /// <paramref name="union"/> (at least <see cref="MaxAnswerLength"/> bytes, cleared first); returns its size,
    /// 0 when there is none (an unknown select, UNSET, or a subsel the device does not have).
    /// </summary>
    public int Answer(byte select, byte subsel, Span<byte> union)
    {
        union.Clear();
        if (!_answers.TryGetValue(Key(select, subsel), out byte[]? answer))
        {
            return 0;
        }

        answer.CopyTo(union);
        return answer.Length;
    }

    /// <summary>After this, the description no longer changes (a device holds it).</summary>
    internal void Freeze() => _frozen = true;

    private static int Key(byte select, byte subsel) => (select << 8) | subsel;

    private void SetAnswer(byte select, byte subsel, byte[] answer)
    {
        if (_frozen)
        {
            throw new InvalidOperationException("A device already uses this description.");
        }

        _answers[Key(select, subsel)] = answer;
    }

    private static byte[] Bitmap(ReadOnlySpan<ushort> codes)
    {
        // The bitmap is as long as its highest bit needs (at least one byte), as QEMU sizes its answers.
        int highest = 0;
        foreach (ushort code in codes)
        {
            if (code >= MaxAnswerLength * 8)
            {
                throw new ArgumentOutOfRangeException(nameof(codes), $"Code {code} does not fit a {MaxAnswerLength}-byte bitmap.");
            }

            highest = Math.Max(highest, code);
        }

        byte[] bitmap = new byte[(highest / 8) + 1];
        foreach (ushort code in codes)
        {
            bitmap[code / 8] |= (byte)(1 << (code % 8));
        }

        return bitmap;
    }

    private static byte[] AsciiString(string text, string parameter)
    {
        if (text.Length > MaxAnswerLength || !Ascii.IsValid(text) || text.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Up to {MaxAnswerLength} ASCII characters without NUL.", parameter);
        }

        return Encoding.ASCII.GetBytes(text);
    }
}
