using Platform.Devices.Display;

namespace Platform.Engine.Tests.Display;

/// <summary>
/// Reads text back from a picture of a VGA text screen (9×16 cells, light text on black, as SeaBIOS and int 10h write
/// it) by matching each cell's dots against the font the guest loaded into plane 2 of video memory.
/// </summary>
internal static class TextScreen
{
    public const int CellWidth = 9, CellHeight = 16;

    /// <summary>Each text row of <paramref name="screen"/> (0x00RRGGBB per pixel) as a string; '?' where no glyph matches.</summary>
    public static string[] Decode(uint[] screen, int width, int height, StdVga vga)
    {
        var glyphs = new Dictionary<string, char>();
        ReadOnlySpan<byte> memory = vga.VideoMemory.Span;
        for (int character = 255; character >= 0; character--)
        {
            byte[] rows = new byte[CellHeight];
            for (int row = 0; row < CellHeight; row++)
            {
                rows[row] = memory[(((character * 32) + row) * 4) + 2]; // plane 2 of character map 0
            }

            glyphs[Convert.ToHexString(rows)] = character is >= 0x20 and < 0x7F ? (char)character : '?';
        }

        glyphs[new string('0', CellHeight * 2)] = ' ';
        string[] lines = new string[height / CellHeight];
        var line = new System.Text.StringBuilder();
        for (int textRow = 0; textRow < lines.Length; textRow++)
        {
            line.Clear();
            for (int column = 0; column < width / CellWidth; column++)
            {
                byte[] rows = new byte[CellHeight];
                for (int y = 0; y < CellHeight; y++)
                {
                    for (int x = 0; x < 8; x++)
                    {
                        uint pixel = screen[(((textRow * CellHeight) + y) * width) + (column * CellWidth) + x];
                        if (pixel != 0)
                        {
                            rows[y] |= (byte)(0x80 >> x);
                        }
                    }
                }

                line.Append(glyphs.GetValueOrDefault(Convert.ToHexString(rows), '?'));
            }

            lines[textRow] = line.ToString().TrimEnd();
        }

        return lines;
    }
}
