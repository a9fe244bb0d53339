using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc.Support;

internal static class VncAssert
{
    /// <summary>
    /// The client's screen shows <paramref name="expected"/> as well as its pixel format can: each channel within one
    /// quantum of the format (exact for 8-bit channels).
    /// </summary>
    public static void ScreenMatches(RfbTestClient client, uint[] expected, string because = "")
    {
        client.Screen.Length.Should().Be(expected.Length, "the client's framebuffer has the screen's size");
        PixelFormat f = client.Format;
        int tr = Tolerance(f.TrueColour ? f.RedMax : 7), tg = Tolerance(f.TrueColour ? f.GreenMax : 7), tb = Tolerance(f.TrueColour ? f.BlueMax : 3);
        for (int i = 0; i < expected.Length; i++)
        {
            uint want = expected[i], got = client.Screen[i];
            bool close = Math.Abs((int)((want >> 16) & 255) - (int)((got >> 16) & 255)) <= tr
                && Math.Abs((int)((want >> 8) & 255) - (int)((got >> 8) & 255)) <= tg
                && Math.Abs((int)(want & 255) - (int)(got & 255)) <= tb;
            if (!close)
            {
                throw new Xunit.Sdk.XunitException(
                    $"Pixel ({i % client.Width}, {i / client.Width}) is {got:X6}, expected {want:X6} (format {f}) {because}");
            }
        }
    }

    private static int Tolerance(int max) => max >= 255 ? 0 : (255 + max) / (max + 1);
}
