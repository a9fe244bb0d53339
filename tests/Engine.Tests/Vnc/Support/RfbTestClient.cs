using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc.Support;

/// <summary>
/// A VNC viewer for tests, written from RFC 6143 and the rfbproto descriptions of ZRLE, Tight and the pseudo-encodings
/// — not from the server's code — so that a round trip through it checks the server against the specification. It
/// keeps the decoded screen as 0x00RRGGBB pixels.
/// </summary>
internal sealed class RfbTestClient : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly TestInflater _zrleStream = new();
    private readonly TestInflater[] _tightStreams = [new(), new(), new(), new()];

    public RfbTestClient(Stream stream) => _stream = stream;

    public int Width { get; private set; }

    public int Height { get; private set; }

    public string DesktopName { get; private set; } = "";

    public PixelFormat ServerFormat { get; private set; }

    public PixelFormat Format { get; private set; }

    public uint[] Screen { get; private set; } = [];

    public uint[] ColourMap { get; } = new uint[256];

    public List<int> LedStates { get; } = [];

    public bool ExtendedKeyEventAcknowledged { get; private set; }

    public List<(int Reason, int Status, int Width, int Height)> DesktopSizes { get; } = [];

    public (int HotspotX, int HotspotY, int Width, int Height, uint[] Pixels, byte[] Mask)? Cursor { get; private set; }

    /// <summary>Rectangles of the last update read, with their encodings.</summary>
    public List<(int X, int Y, int Width, int Height, int Encoding)> LastRectangles { get; } = [];

    public long BytesRead { get; private set; }

    /// <summary>Tight rectangles that came as JPEG.</summary>
    public int JpegRectangles { get; private set; }

    public int UpdatesRead { get; private set; }

    /// <summary>Tight rectangles by subencoding: fill, mono, indexed, full, gradient, jpeg.</summary>
    public Dictionary<string, int> TightKinds { get; } = [];

    /// <summary>EndOfContinuousUpdates messages received.</summary>
    public int EndOfContinuousUpdates { get; private set; }

    /// <summary>Fence messages received: flags and payload.</summary>
    public List<(uint Flags, byte[] Payload)> Fences { get; } = [];

    /// <summary>Answers the server's fence requests as they are read, as noVNC does (with BlockBefore and BlockAfter kept).</summary>
    public bool AnswerFences { get; set; }

    /// <summary>How long the client waits before answering a fence: a link that takes that long to deliver each update.</summary>
    public TimeSpan FenceAnswerDelay { get; set; }

    public string? FailureReason { get; private set; }

    /// <summary>Connects a new client to <paramref name="server"/> over an in-memory pipe and serves it.</summary>
    public static (RfbTestClient Client, Task Served, DuplexStream ServerSide) Connect(VncServer server, int capacity = 1 << 22)
    {
        (DuplexStream client, DuplexStream serverSide) = DuplexStream.CreatePair(capacity);
        Task served = server.ServeAsync(serverSide);
        return (new RfbTestClient(client), served, serverSide);
    }

    public async Task HandshakeAsync(string version = "RFB 003.008\n", string? password = null, bool shared = true)
    {
        string serverVersion = Encoding.ASCII.GetString(await ReadAsync(12));
        serverVersion.Should().Be("RFB 003.008\n");
        await WriteAsync(Encoding.ASCII.GetBytes(version));
        int minor = int.Parse(version.AsSpan(8, 3));
        int securityType;
        if (minor >= 7)
        {
            int count = (await ReadAsync(1))[0];
            if (count == 0)
            {
                FailureReason = await ReadReasonAsync();
                throw new InvalidOperationException($"Refused: {FailureReason}");
            }

            byte[] types = await ReadAsync(count);
            securityType = types[0];
            await WriteAsync([(byte)securityType]);
        }
        else
        {
            securityType = (int)BinaryPrimitives.ReadUInt32BigEndian(await ReadAsync(4));
            if (securityType == 0)
            {
                FailureReason = await ReadReasonAsync();
                throw new InvalidOperationException($"Refused: {FailureReason}");
            }
        }

        if (securityType == 2)
        {
            byte[] challenge = await ReadAsync(16);
            await WriteAsync(EncryptChallenge(challenge, password ?? ""));
            await ReadSecurityResultAsync(minor);
        }
        else if (minor >= 8)
        {
            await ReadSecurityResultAsync(minor);
        }

        await WriteAsync([shared ? (byte)1 : (byte)0]);
        byte[] init = await ReadAsync(24);
        Width = BinaryPrimitives.ReadUInt16BigEndian(init);
        Height = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2));
        ServerFormat = PixelFormat.Parse(init.AsSpan(4));
        Format = ServerFormat;
        int nameLength = (int)BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20));
        DesktopName = Encoding.UTF8.GetString(await ReadAsync(nameLength));
        Screen = new uint[Width * Height];
    }

    /// <summary>The VNC authentication response: DES-ECB of the challenge, keyed by the password's bit-reversed bytes.</summary>
    public static byte[] EncryptChallenge(byte[] challenge, string password)
    {
        var key = new byte[8];
        byte[] bytes = Encoding.Latin1.GetBytes(password);
        for (int i = 0; i < 8 && i < bytes.Length; i++)
        {
            byte b = bytes[i], reversed = 0;
            for (int bit = 0; bit < 8; bit++)
            {
                if ((b & (1 << bit)) != 0)
                {
                    reversed |= (byte)(0x80 >> bit);
                }
            }

            key[i] = reversed;
        }

#pragma warning disable CA5351 // the protocol's algorithm
        using var des = DES.Create();
#pragma warning restore CA5351
        des.Key = key;
        return des.EncryptEcb(challenge, PaddingMode.None);
    }

    public Task SetPixelFormatAsync(PixelFormat format)
    {
        Format = format;
        var message = new byte[20];
        message[0] = 0;
        format.WriteTo(message.AsSpan(4));
        return WriteAsync(message);
    }

    public Task SetEncodingsAsync(params int[] encodings)
    {
        var message = new byte[4 + (4 * encodings.Length)];
        message[0] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)encodings.Length);
        for (int i = 0; i < encodings.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4 + (4 * i)), encodings[i]);
        }

        return WriteAsync(message);
    }

    public Task RequestUpdateAsync(bool incremental, int x = 0, int y = 0, int width = -1, int height = -1)
    {
        var message = new byte[10];
        message[0] = 3;
        message[1] = incremental ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)x);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)y);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), (ushort)(width < 0 ? Width : width));
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8), (ushort)(height < 0 ? Height : height));
        return WriteAsync(message);
    }

    public Task SendKeyAsync(uint keysym, bool down)
    {
        var message = new byte[8];
        message[0] = 4;
        message[1] = down ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), keysym);
        return WriteAsync(message);
    }

    public Task SendQemuKeyAsync(uint keysym, uint keycode, bool down)
    {
        var message = new byte[12];
        message[0] = 255;
        message[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), down ? (ushort)1 : (ushort)0);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), keysym);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(8), keycode);
        return WriteAsync(message);
    }

    public Task SendPointerAsync(int x, int y, int buttons)
    {
        var message = new byte[6];
        message[0] = 5;
        message[1] = (byte)buttons;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)x);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)y);
        return WriteAsync(message);
    }

    public Task SendCutTextAsync(string text)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(text);
        var message = new byte[8 + bytes.Length];
        message[0] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), (uint)bytes.Length);
        bytes.CopyTo(message, 8);
        return WriteAsync(message);
    }

    public Task SendSetDesktopSizeAsync(int width, int height)
    {
        var message = new byte[8 + 16];
        message[0] = 251;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)height);
        message[6] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8 + 8), (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8 + 10), (ushort)height);
        return WriteAsync(message);
    }

    public Task SendEnableContinuousUpdatesAsync(bool enable, int x = 0, int y = 0, int width = -1, int height = -1)
    {
        var message = new byte[10];
        message[0] = 150;
        message[1] = enable ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)x);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)y);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), (ushort)(width < 0 ? Width : width));
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8), (ushort)(height < 0 ? Height : height));
        return WriteAsync(message);
    }

    public Task SendFenceAsync(uint flags, byte[] payload)
    {
        var message = new byte[9 + payload.Length];
        message[0] = 248;
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), flags);
        message[8] = (byte)payload.Length;
        payload.CopyTo(message, 9);
        return WriteAsync(message);
    }

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes, TestContext.Current.CancellationToken);
        await _stream.FlushAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Reads server messages until a FramebufferUpdate has been decoded; returns its rectangles.</summary>
    public async Task<List<(int X, int Y, int Width, int Height, int Encoding)>> ReadUpdateAsync()
    {
        while (await ReadMessageAsync() != 0)
        {
        }

        return LastRectangles;
    }

    /// <summary>Reads one server message and applies it; returns its type.</summary>
    public async Task<int> ReadMessageAsync()
    {
        int type = (await ReadAsync(1))[0];
        switch (type)
        {
            case 0:
                await ReadFramebufferUpdateAsync();
                break;
            case 1:
                byte[] header = await ReadAsync(5);
                int first = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1));
                int count = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(3));
                byte[] entries = await ReadAsync(count * 6);
                for (int i = 0; i < count; i++)
                {
                    uint r = (uint)BinaryPrimitives.ReadUInt16BigEndian(entries.AsSpan(i * 6)) >> 8;
                    uint g = (uint)BinaryPrimitives.ReadUInt16BigEndian(entries.AsSpan((i * 6) + 2)) >> 8;
                    uint b = (uint)BinaryPrimitives.ReadUInt16BigEndian(entries.AsSpan((i * 6) + 4)) >> 8;
                    ColourMap[first + i] = (r << 16) | (g << 8) | b;
                }

                break;
            case 150:
                EndOfContinuousUpdates++;
                break;
            case 248:
                byte[] fence = await ReadAsync(8);
                uint flags = BinaryPrimitives.ReadUInt32BigEndian(fence.AsSpan(3));
                fence[7].Should().BeLessThanOrEqualTo(64, "a fence payload is at most 64 bytes");
                byte[] payload = await ReadAsync(fence[7]);
                Fences.Add((flags, payload));
                if (AnswerFences && (flags & (1u << 31)) != 0)
                {
                    if (FenceAnswerDelay > TimeSpan.Zero)
                    {
                        await Task.Delay(FenceAnswerDelay);
                    }

                    await SendFenceAsync(flags & 3, payload);
                }

                break;
            default:
                throw new InvalidDataException($"Unexpected server message {type}.");
        }

        return type;
    }

    private async Task ReadFramebufferUpdateAsync()
    {
        LastRectangles.Clear();
        byte[] header = await ReadAsync(3);
        int count = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1));
        for (int i = 0; i < count; i++)
        {
            byte[] rect = await ReadAsync(12);
            int x = BinaryPrimitives.ReadUInt16BigEndian(rect);
            int y = BinaryPrimitives.ReadUInt16BigEndian(rect.AsSpan(2));
            int w = BinaryPrimitives.ReadUInt16BigEndian(rect.AsSpan(4));
            int h = BinaryPrimitives.ReadUInt16BigEndian(rect.AsSpan(6));
            int encoding = BinaryPrimitives.ReadInt32BigEndian(rect.AsSpan(8));
            if (encoding == -224)
            {
                break; // LastRect
            }

            LastRectangles.Add((x, y, w, h, encoding));
            if (encoding >= 0)
            {
                (x + w).Should().BeLessThanOrEqualTo(Width, "a rectangle must lie in the framebuffer");
                (y + h).Should().BeLessThanOrEqualTo(Height, "a rectangle must lie in the framebuffer");
            }

            await DecodeRectangleAsync(x, y, w, h, encoding);
        }

        UpdatesRead++;
    }

    private async Task DecodeRectangleAsync(int x, int y, int w, int h, int encoding)
    {
        int bpp = Format.BitsPerPixel / 8;
        switch (encoding)
        {
            case 0:
                byte[] raw = await ReadAsync(w * h * bpp);
                for (int i = 0; i < w * h; i++)
                {
                    Put(x + (i % w), y + (i / w), ToXrgb(ReadPixel(raw.AsSpan(i * bpp))));
                }

                break;
            case 1:
                byte[] source = await ReadAsync(4);
                int sx = BinaryPrimitives.ReadUInt16BigEndian(source), sy = BinaryPrimitives.ReadUInt16BigEndian(source.AsSpan(2));
                var copy = new uint[w * h];
                for (int row = 0; row < h; row++)
                {
                    Array.Copy(Screen, ((sy + row) * Width) + sx, copy, row * w, w);
                }

                for (int row = 0; row < h; row++)
                {
                    Array.Copy(copy, row * w, Screen, ((y + row) * Width) + x, w);
                }

                break;
            case 16:
                int length = (int)BinaryPrimitives.ReadUInt32BigEndian(await ReadAsync(4));
                _zrleStream.Feed(await ReadAsync(length));
                DecodeZrle(x, y, w, h);
                break;
            case 7:
                await DecodeTightAsync(x, y, w, h);
                break;
            case -223:
                Resize(w, h);
                DesktopSizes.Add((-1, 0, w, h));
                break;
            case -308:
                byte[] screens = await ReadAsync(4);
                await ReadAsync(screens[0] * 16);
                DesktopSizes.Add((x, y, w, h));
                if (w != Width || h != Height)
                {
                    Resize(w, h);
                }

                break;
            case -239:
                byte[] pixels = await ReadAsync(w * h * bpp);
                byte[] mask = await ReadAsync((w + 7) / 8 * h);
                var shape = new uint[w * h];
                for (int i = 0; i < shape.Length; i++)
                {
                    shape[i] = ToXrgb(ReadPixel(pixels.AsSpan(i * bpp)));
                }

                Cursor = (x, y, w, h, shape, mask);
                break;
            case -258:
                ExtendedKeyEventAcknowledged = true;
                break;
            case -261:
                LedStates.Add((await ReadAsync(1))[0]);
                break;
            default:
                throw new InvalidDataException($"Unexpected encoding {encoding}.");
        }
    }

    private void Resize(int width, int height)
    {
        Width = width;
        Height = height;
        Screen = new uint[width * height];
    }

    private void Put(int x, int y, uint xrgb) => Screen[(y * Width) + x] = xrgb;

    // ---- Pixels ----------------------------------------------------------------------------------------------------

    private uint ReadPixel(ReadOnlySpan<byte> bytes) => Format.BitsPerPixel switch
    {
        8 => bytes[0],
        16 => Format.BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : BinaryPrimitives.ReadUInt16LittleEndian(bytes),
        _ => Format.BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes),
    };

    /// <summary>A pixel value in the client's format back to 8-bit channels (or through the colour map).</summary>
    public uint ToXrgb(uint value)
    {
        if (!Format.TrueColour)
        {
            return ColourMap[value & 0xFF];
        }

        return (Channel(value, Format.RedMax, Format.RedShift) << 16)
            | (Channel(value, Format.GreenMax, Format.GreenShift) << 8)
            | Channel(value, Format.BlueMax, Format.BlueShift);
    }

    private static uint Channel(uint value, int max, int shift) =>
        max == 0 ? 0 : (uint)((((value >> shift) & (uint)max) * 255 + ((uint)max / 2)) / (uint)max);

    /// <summary>ZRLE's CPIXEL: 3 bytes when a 32-bit true-colour pixel's colour bits fit in its low or high 3 bytes.</summary>
    private int CompactSize(out bool high)
    {
        high = false;
        if (!Format.TrueColour || Format.BitsPerPixel != 32 || Format.Depth > 24)
        {
            return Format.BitsPerPixel / 8;
        }

        uint used = ((uint)Format.RedMax << Format.RedShift) | ((uint)Format.GreenMax << Format.GreenShift) | ((uint)Format.BlueMax << Format.BlueShift);
        if ((used & 0xFF000000) == 0)
        {
            return 3;
        }

        if ((used & 0xFF) == 0)
        {
            high = true;
            return 3;
        }

        return 4;
    }

    private uint ReadCompactPixel(Stream data)
    {
        int size = CompactSize(out bool high);
        Span<byte> bytes = stackalloc byte[4];
        data.ReadExactly(bytes[..size]);
        if (size != 3)
        {
            return ToXrgb(ReadPixel(bytes));
        }

        uint value = Format.BigEndian
            ? ((uint)bytes[0] << 16) | ((uint)bytes[1] << 8) | bytes[2]
            : bytes[0] | ((uint)bytes[1] << 8) | ((uint)bytes[2] << 16);
        return ToXrgb(high ? value << 8 : value);
    }

    // ---- ZRLE (RFC 6143 §7.7.6) --------------------------------------------------------------------------------

    private void DecodeZrle(int x, int y, int w, int h)
    {
        Stream data = _zrleStream.Output;
        for (int ty = y; ty < y + h; ty += 64)
        {
            for (int tx = x; tx < x + w; tx += 64)
            {
                int tw = Math.Min(64, x + w - tx), th = Math.Min(64, y + h - ty);
                DecodeZrleTile(data, tx, ty, tw, th);
            }
        }
    }

    private void DecodeZrleTile(Stream data, int x, int y, int w, int h)
    {
        int subencoding = ReadByte(data);
        int total = w * h;
        void At(int i, uint c) => Put(x + (i % w), y + (i / w), c);
        if (subencoding == 0)
        {
            for (int i = 0; i < total; i++)
            {
                At(i, ReadCompactPixel(data));
            }
        }
        else if (subencoding == 1)
        {
            uint c = ReadCompactPixel(data);
            for (int i = 0; i < total; i++)
            {
                At(i, c);
            }
        }
        else if (subencoding <= 16)
        {
            var palette = new uint[subencoding];
            for (int i = 0; i < palette.Length; i++)
            {
                palette[i] = ReadCompactPixel(data);
            }

            int bits = subencoding == 2 ? 1 : subencoding <= 4 ? 2 : 4;
            for (int row = 0; row < h; row++)
            {
                int b = 0, left = 0;
                for (int col = 0; col < w; col++)
                {
                    if (left == 0)
                    {
                        b = ReadByte(data);
                        left = 8;
                    }

                    left -= bits;
                    int index = (b >> left) & ((1 << bits) - 1);
                    Put(x + col, y + row, palette[index]);
                }
            }
        }
        else if (subencoding == 128 || subencoding >= 130)
        {
            uint[] palette = new uint[subencoding == 128 ? 0 : subencoding - 128];
            for (int i = 0; i < palette.Length; i++)
            {
                palette[i] = ReadCompactPixel(data);
            }

            int done = 0;
            while (done < total)
            {
                uint colour;
                int run = 1;
                if (subencoding == 128)
                {
                    colour = ReadCompactPixel(data);
                    run = ReadRunLength(data);
                }
                else
                {
                    int index = ReadByte(data);
                    colour = palette[index & 127];
                    if ((index & 128) != 0)
                    {
                        run = ReadRunLength(data);
                    }
                }

                run.Should().BeLessThanOrEqualTo(total - done, "a run must not pass the end of its tile");
                for (int i = 0; i < run; i++)
                {
                    At(done++, colour);
                }
            }
        }
        else
        {
            throw new InvalidDataException($"ZRLE subencoding {subencoding} is not defined.");
        }
    }

    private static int ReadRunLength(Stream data)
    {
        int length = 1, b;
        do
        {
            b = ReadByte(data);
            length += b;
        }
        while (b == 255);
        return length;
    }

    private static int ReadByte(Stream data)
    {
        int b = data.ReadByte();
        return b < 0 ? throw new EndOfStreamException("zlib data ended inside a tile") : b;
    }

    // ---- Tight (rfbproto "Tight Encoding") ----------------------------------------------------------------------

    private bool TightRgb => Format.TrueColour && Format.BitsPerPixel == 32 && Format.Depth == 24
        && Format.RedMax == 255 && Format.GreenMax == 255 && Format.BlueMax == 255;

    private uint ReadTightPixel(ReadOnlySpan<byte> bytes) =>
        TightRgb ? ((uint)bytes[0] << 16) | ((uint)bytes[1] << 8) | bytes[2] : ToXrgb(ReadPixel(bytes));

    private async Task DecodeTightAsync(int x, int y, int w, int h)
    {
        w.Should().BeLessThanOrEqualTo(2048, "Tight rectangles are at most 2048 pixels wide");
        int control = (await ReadAsync(1))[0];
        for (int i = 0; i < 4; i++)
        {
            if ((control & (1 << i)) != 0)
            {
                _tightStreams[i].Reset();
            }
        }

        int type = control >> 4;
        int tpp = TightRgb ? 3 : Format.BitsPerPixel / 8;
        if (type == 8)
        {
            CountTight("fill");
            uint colour = ReadTightPixel(await ReadAsync(tpp));
            for (int i = 0; i < w * h; i++)
            {
                Put(x + (i % w), y + (i / w), colour);
            }

            return;
        }

        if (type == 9)
        {
            // JPEG: a compact length, then a whole JPEG image of the rectangle's size (decoded here by stb_image).
            byte[] jpeg = await ReadAsync(await ReadCompactLengthAsync());
            StbImageSharp.ImageResult image = StbImageSharp.ImageResult.FromMemory(jpeg, StbImageSharp.ColorComponents.RedGreenBlue);
            (image.Width, image.Height).Should().Be((w, h), "a Tight JPEG image has its rectangle's size");
            for (int i = 0; i < w * h; i++)
            {
                Put(x + (i % w), y + (i / w), (uint)((image.Data[i * 3] << 16) | (image.Data[(i * 3) + 1] << 8) | image.Data[(i * 3) + 2]));
            }

            JpegRectangles++;
            CountTight("jpeg");
            return;
        }

        if (type > 9)
        {
            throw new InvalidDataException($"Tight compression type {type} (PNG) was not negotiated.");
        }

        int stream = type & 3;
        int filter = (type & 4) != 0 ? (await ReadAsync(1))[0] : 0;
        uint[] palette = [];
        int size;
        if (filter == 1)
        {
            int colours = (await ReadAsync(1))[0] + 1;
            byte[] entries = await ReadAsync(colours * tpp);
            palette = new uint[colours];
            for (int i = 0; i < colours; i++)
            {
                palette[i] = ReadTightPixel(entries.AsSpan(i * tpp));
            }

            size = colours == 2 ? (w + 7) / 8 * h : w * h;
            CountTight(colours == 2 ? "mono" : "indexed");
        }
        else if (filter == 0)
        {
            size = w * h * tpp;
            CountTight("full");
        }
        else if (filter == 2)
        {
            TightRgb.Should().BeTrue("we send the gradient filter only with three-byte TPIXELs");
            size = w * h * 3;
            CountTight("gradient");
        }
        else
        {
            throw new InvalidDataException($"Tight filter {filter} was not expected.");
        }

        byte[] data;
        if (size < 12)
        {
            data = await ReadAsync(size);
        }
        else
        {
            int length = await ReadCompactLengthAsync();
            _tightStreams[stream].Feed(await ReadAsync(length));
            data = new byte[size];
            _tightStreams[stream].Output.ReadExactly(data);
        }

        if (filter == 2)
        {
            Ungradient(data, w, h);
        }

        for (int row = 0; row < h; row++)
        {
            for (int col = 0; col < w; col++)
            {
                uint colour = filter is 0 or 2
                    ? ReadTightPixel(data.AsSpan(((row * w) + col) * tpp))
                    : palette.Length == 2
                        ? palette[(data[(row * ((w + 7) / 8)) + (col / 8)] >> (7 - (col % 8))) & 1]
                        : palette[data[(row * w) + col]];
                Put(x + col, y + row, colour);
            }
        }
    }

    /// <summary>
    /// Undoes the gradient filter in place (rfbproto: each channel of a pixel is sent less its prediction, left + above
    /// - above-left clamped to 0..255, modulo 256; neighbours outside the rectangle are zero).
    /// </summary>
    private static void Ungradient(byte[] data, int w, int h)
    {
        for (int row = 0; row < h; row++)
        {
            for (int col = 0; col < w; col++)
            {
                for (int c = 0; c < 3; c++)
                {
                    int left = col > 0 ? data[(((row * w) + col - 1) * 3) + c] : 0;
                    int up = row > 0 ? data[((((row - 1) * w) + col) * 3) + c] : 0;
                    int upLeft = row > 0 && col > 0 ? data[((((row - 1) * w) + col - 1) * 3) + c] : 0;
                    int i = (((row * w) + col) * 3) + c;
                    data[i] = (byte)(data[i] + Math.Clamp(left + up - upLeft, 0, 255));
                }
            }
        }
    }

    private void CountTight(string kind) => TightKinds[kind] = TightKinds.GetValueOrDefault(kind) + 1;

    private async Task<int> ReadCompactLengthAsync()
    {
        int length = 0;
        for (int shift = 0; shift <= 14; shift += 7)
        {
            int b = (await ReadAsync(1))[0];
            length |= (shift == 14 ? b : b & 0x7F) << shift;
            if (shift == 14 || (b & 0x80) == 0)
            {
                break;
            }
        }

        return length;
    }

    // ---- Transport ---------------------------------------------------------------------------------------------

    public async Task<byte[]> ReadAsync(int count)
    {
        var buffer = new byte[count];
        await _stream.ReadExactlyAsync(buffer, TestContext.Current.CancellationToken);
        BytesRead += count;
        return buffer;
    }

    private async Task<string> ReadReasonAsync()
    {
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(await ReadAsync(4));
        return Encoding.UTF8.GetString(await ReadAsync(length));
    }

    private async Task ReadSecurityResultAsync(int minor)
    {
        uint result = BinaryPrimitives.ReadUInt32BigEndian(await ReadAsync(4));
        if (result != 0)
        {
            FailureReason = minor >= 8 ? await ReadReasonAsync() : "(no reason before 3.8)";
            throw new UnauthorizedAccessException($"Security failed: {FailureReason}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _zrleStream.Dispose();
        foreach (TestInflater inflater in _tightStreams)
        {
            inflater.Dispose();
        }
    }
}
