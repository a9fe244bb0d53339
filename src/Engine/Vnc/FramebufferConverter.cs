using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Platform.Devices.Display;

namespace Platform.Engine.Vnc;

/// <summary>Reads pixels of any std-vga depth from video memory as 0x00RRGGBB.</summary>
internal static class FramebufferConverter
{
    /// <summary>
    /// Converts pixels [<paramref name="x0"/>, x0 + destination.Length) of line <paramref name="y"/>. A screen that shows
    /// nothing (disabled, blanked, planar) reads black, and so does any part of a line outside video memory: a mode is
    /// trusted only as far as the memory reaches.
    /// </summary>
    public static void ConvertRow(
        DisplayMode mode, ReadOnlySpan<byte> memory, ReadOnlySpan<uint> palette, int y, int x0, Span<uint> destination)
    {
        int bytesPerPixel = mode.BytesPerPixel;
        long start = mode.StartOffset + ((long)y * mode.Stride) + ((long)x0 * bytesPerPixel);
        long length = (long)destination.Length * bytesPerPixel;
        if (!mode.Visible || start < 0 || start + length > memory.Length)
        {
            destination.Clear();
            return;
        }

        ReadOnlySpan<byte> source = memory.Slice((int)start, (int)length);
        switch (mode.BitsPerPixel)
        {
            case 32 when !mode.BigEndian && BitConverter.IsLittleEndian:
                // b, g, r, x: the host's own uint, minus the unused byte.
                ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(source);
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = words[i] & 0x00FFFFFF;
                }

                break;
            case 32:
                for (int i = 0; i < destination.Length; i++)
                {
                    uint value = mode.BigEndian
                        ? BinaryPrimitives.ReadUInt32BigEndian(source[(i * 4)..])
                        : BinaryPrimitives.ReadUInt32LittleEndian(source[(i * 4)..]);
                    destination[i] = value & 0x00FFFFFF;
                }

                break;
            case 24:
                for (int i = 0, o = 0; i < destination.Length; i++, o += 3)
                {
                    destination[i] = mode.BigEndian
                        ? ((uint)source[o] << 16) | ((uint)source[o + 1] << 8) | source[o + 2]
                        : ((uint)source[o + 2] << 16) | ((uint)source[o + 1] << 8) | source[o];
                }

                break;
            case 16:
                for (int i = 0; i < destination.Length; i++)
                {
                    uint v = Read16(source[(i * 2)..], mode.BigEndian);
                    destination[i] = (Widen((v >> 11) & 0x1F, 5) << 16) | (Widen((v >> 5) & 0x3F, 6) << 8) | Widen(v & 0x1F, 5);
                }

                break;
            case 15:
                for (int i = 0; i < destination.Length; i++)
                {
                    uint v = Read16(source[(i * 2)..], mode.BigEndian);
                    destination[i] = (Widen((v >> 10) & 0x1F, 5) << 16) | (Widen((v >> 5) & 0x1F, 5) << 8) | Widen(v & 0x1F, 5);
                }

                break;
            case 8:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = palette[source[i]];
                }

                break;
            default:
                destination.Clear();
                break;
        }
    }

    private static uint Read16(ReadOnlySpan<byte> bytes, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : BinaryPrimitives.ReadUInt16LittleEndian(bytes);

    /// <summary>Widens an n-bit channel to 8 bits by repeating its top bits (31 → 255, 0 → 0).</summary>
    private static uint Widen(uint value, int bits) => (value << (8 - bits)) | (value >> ((2 * bits) - 8));
}
