using System.Buffers.Binary;
using Platform.Devices.Display;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

// The std-vga device and the VNC server together, as the engine wires them: the "guest" sets modes through the DISPI
// ports, draws into video memory, and a dirty log (here the test's, in the engine KVM's) names the pages it wrote.
public sealed class StdVgaFramebufferSourceTests
{
    private readonly StdVga _vga = new(new byte[4 * 1024 * 1024]);
    private readonly HashSet<int> _dirtyPages = [];

    private bool ReadDirtyLog(Span<ulong> bitmap)
    {
        foreach (int page in _dirtyPages)
        {
            bitmap[page / 64] |= 1UL << (page % 64);
        }

        _dirtyPages.Clear();
        return true;
    }

    private void Dispi(int register, int value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)register);
        _vga.DispiPorts.Write(0, b);
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        _vga.DispiPorts.Write(1, b);
    }

    private void SetMode(int width, int height, int bpp)
    {
        _vga.VgaPorts.Read(0x1A, new byte[1]);   // reset the attribute flip-flop
        _vga.VgaPorts.Write(0, [0x20]);          // video on
        Dispi(4, 0);
        Dispi(3, bpp);
        Dispi(1, width);
        Dispi(2, height);
        Dispi(4, 0x41);
    }

    /// <summary>The guest writes <paramref name="bytes"/> at <paramref name="offset"/> of video memory; KVM logs the pages.</summary>
    private void GuestWrite(int offset, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_vga.VideoMemory.Span[offset..]);
        for (int page = offset / 4096; page <= (offset + bytes.Length - 1) / 4096; page++)
        {
            _dirtyPages.Add(page);
        }
    }

    [Fact]
    public async Task A_guest_that_sets_a_mode_and_draws_is_seen_by_a_viewer()
    {
        SetMode(800, 600, 32);
        var line = new byte[800 * 4];
        for (int y = 0; y < 600; y += 50)
        {
            for (int x = 0; x < 800; x++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(line.AsSpan(x * 4), (uint)((x & 0xFF) << 16 | y));
            }

            GuestWrite(y * 3200, line);
        }

        using var server = new VncServer(new StdVgaFramebufferSource(_vga, ReadDirtyLog));
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            (client.Width, client.Height).Should().Be((800, 600));
            await client.SetEncodingsAsync(16, -308, -223);
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();   // the screen layout
            await client.ReadUpdateAsync();
            client.Screen[(100 * 800) + 300].Should().Be((uint)(300 & 0xFF) << 16 | 100);
            client.Screen[(101 * 800) + 300].Should().Be(0u, "the enable cleared video memory");

            // A pixel drawn later arrives through the dirty log.
            GuestWrite((599 * 3200) + (799 * 4), [0xEF, 0xCD, 0xAB, 0x00]);
            server.Refresh();
            server.LastRefreshPixelsCompared.Should().BeLessThan(800 * 3, "only the logged page was read");
            await client.RequestUpdateAsync(incremental: true);
            await client.ReadUpdateAsync();
            client.Screen[^1].Should().Be(0xABCDEFu);

            // The guest switches to 640×480 at 16 bpp: the viewer is resized and sees the new mode.
            SetMode(640, 480, 16);
            GuestWrite(0, [0x00, 0xF8]);   // one red pixel in r5g6b5
            server.Refresh();
            await client.ReadUpdateAsync();
            (client.Width, client.Height).Should().Be((640, 480));
            await client.RequestUpdateAsync(incremental: true);
            await client.ReadUpdateAsync();
            client.Screen[0].Should().Be(0xFF0000u);
            client.Screen[1].Should().Be(0u);
        }

        await served;
    }

    [Fact]
    public void Without_a_dirty_log_the_source_says_so()
    {
        var source = new StdVgaFramebufferSource(_vga, readDirtyLog: null);
        source.CollectDirtyPages(new ulong[16]).Should().BeFalse();
        source.Mode.Should().Be(DisplayMode.PowerOn);
        source.VideoMemory.Length.Should().Be(4 * 1024 * 1024);
    }
}
