namespace Platform.Devices.Pci;

/// <summary>
/// What one segment of 0xC0000–0xFFFFF decodes, as an i440FX PAM field (two bits: reads from RAM, writes to RAM) sets
/// it. Firmware starts with the segments on the bus (the BIOS flash shows through at 0xE0000–0xFFFFF), copies itself
/// into RAM with <see cref="ReadWrite"/>, and write-protects it with <see cref="ReadOnly"/>.
/// </summary>
public enum ShadowRamMode
{
    /// <summary>00: reads and writes go to the bus: the BIOS flash's legacy window, or nothing (reads as all ones).</summary>
    Disabled = 0,
    /// <summary>01: reads come from RAM, writes go to the bus (are lost): write-protected shadow RAM.</summary>
    ReadOnly = 1,
    /// <summary>10: writes go to RAM, reads to the bus. Mapped as <see cref="ReadWrite"/>, as QEMU does.</summary>
    WriteOnly = 2,
    /// <summary>11: RAM, read and written.</summary>
    ReadWrite = 3,
}

/// <summary>The segments PAM registers govern: 0xF0000–0xFFFFF (64 KiB), then 0xC0000–0xEFFFF in twelve of 16 KiB.</summary>
public static class ShadowRamSegments
{
    public const int Count = 13;
    public const ulong Start = 0xC0000;
    public const ulong End = 0x100000;

    /// <summary>Segment 0 is the BIOS's own 64 KiB at 0xF0000; segment n (1–12) is 16 KiB at 0xC0000 + (n − 1) × 16 KiB.</summary>
    public static (ulong Address, ulong Size) Range(int segment) => segment switch
    {
        0 => (0xF0000, 0x10000),
        >= 1 and < Count => (Start + ((ulong)(segment - 1) * 0x4000), 0x4000),
        _ => throw new ArgumentOutOfRangeException(nameof(segment)),
    };
}

/// <summary>What the host bridge calls when the guest changes a segment's mode: the engine remaps that segment.</summary>
public interface IShadowRamControl
{
    void SetMode(int segment, ShadowRamMode mode);
}
