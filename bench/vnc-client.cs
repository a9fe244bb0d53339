// A measuring VNC client for bench/vnc.sh (run with `dotnet run bench/vnc-client.cs -- ...`): keeps one
// FramebufferUpdateRequest outstanding, as viewers do, skips over the pixel data without decoding it, and counts
// updates and bytes over a time window. It also samples the VMM's threads in /proc, so the CPU the VMM spends outside
// its vCPU threads (encoding, for both VMMs) can be put per frame.
//
//   vnc-client.cs HOST:PORT ENCODINGS SECONDS WARMUP PID [DELAY_MS [TYPE_MS [RATE_KBIT]]]
//   ENCODINGS: comma-separated from raw, copyrect, zrle, tight, desktopsize, q0-q9 and c0-c9 (the JPEG quality and
//   compression levels), continuous (lists the ContinuousUpdates
//   and Fence pseudo-encodings; a server that confirms them is asked for continuous updates of the whole screen and
//   its fences are answered, as noVNC does; one that does not is driven by requests as usual)
//   DELAY_MS: connect through an in-process proxy that holds every chunk DELAY_MS in each direction (this host's
//   kernel has no netem), so the round trip grows by twice that
//   RATE_KBIT: the proxy's link also carries at most this many kilobits per second each way, behind a queue of
//   50 ms of data (a modest router's): it stops reading while the queue is full, so the server meets back-pressure
//   through TCP as it would on a slow link (0: no limit; with DELAY_MS 0 the proxy adds only the limit)
//   TYPE_MS: also type a letter (key down and up, a to z in turn) every TYPE_MS ms, from the start of the warm-up: a
//   typing session in a text console, whose echo is what the updates carry
// Prints one line: frames= seconds= fps= bytes= bytes_per_frame= rects= copyrects= cpu_ms= cpu_ms_per_frame=
// continuous= (whether the server took continuous updates) bytes_per_second= keys= (keys typed in the window)
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

string[] hostPort = args[0].Split(':');
var encodings = args[1].Split(',').Select(e => e switch
{
    "raw" => 0,
    "copyrect" => 1,
    "tight" => 7,
    "zrle" => 16,
    "desktopsize" => -223,
    "continuous" => -313,
    // The quality and compression level pseudo-encodings, as noVNC lists them (its defaults: q6, c2).
    _ when e.Length == 2 && e[0] == 'q' && char.IsAsciiDigit(e[1]) => -32 + (e[1] - '0'),
    _ when e.Length == 2 && e[0] == 'c' && char.IsAsciiDigit(e[1]) => -256 + (e[1] - '0'),
    _ => throw new ArgumentException($"unknown encoding {e}"),
}).SelectMany(e => e == -313 ? new[] { -313, -312 } : [e]).ToArray();
double seconds = double.Parse(args[2], CultureInfo.InvariantCulture);
double warmup = double.Parse(args[3], CultureInfo.InvariantCulture);
int pid = int.Parse(args[4], CultureInfo.InvariantCulture);
int delayMs = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 0;
int typeMs = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 0;
int rateKbit = args.Length > 7 ? int.Parse(args[7], CultureInfo.InvariantCulture) : 0;

var serverEndPoint = new IPEndPoint(IPAddress.Parse(hostPort[0]), int.Parse(hostPort[1], CultureInfo.InvariantCulture));
if (delayMs > 0 || rateKbit > 0)
{
    serverEndPoint = DelayProxy.Start(serverEndPoint, TimeSpan.FromMilliseconds(delayMs), rateKbit * 1000L / 8);
}

using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
socket.Connect(serverEndPoint);
using var network = new NetworkStream(socket, ownsSocket: false);
using var stream = new BufferedStream(network, 1 << 20);
long bytesIn = 0;

byte[] Read(int count)
{
    var buffer = new byte[count];
    stream.ReadExactly(buffer);
    bytesIn += count;
    return buffer;
}

void Skip(long count)
{
    Span<byte> scratch = stackalloc byte[8192];
    while (count > 0)
    {
        int n = (int)Math.Min(count, scratch.Length);
        stream.ReadExactly(scratch[..n]);
        count -= n;
        bytesIn += n;
    }
}

// Straight to the socket: with continuous updates a reply (a fence's, say) goes out while updates wait in the buffer.
// One writer at a time: the typist writes key events from its own thread.
var writeLock = new object();
void Write(byte[] bytes)
{
    lock (writeLock)
    {
        network.Write(bytes);
    }
}

ushort U16(byte[] b, int at) => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(at));

// Handshake: RFB 3.8, security None.
Read(12);
Write("RFB 003.008\n"u8.ToArray());
int typeCount = Read(1)[0];
byte[] types = Read(typeCount);
if (!types.Contains((byte)1))
{
    throw new InvalidOperationException("the server wants a password; bench/vnc.sh runs both VMMs without one");
}

Write([1]);
Read(4);
Write([1]); // shared
byte[] init = Read(24);
int width = U16(init, 0), height = U16(init, 2);
int bpp = init[4], depth = init[5];
Read((int)BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20)));
int bytesPerPixel = bpp / 8;
int tightPixel = bpp == 32 && depth == 24 ? 3 : bytesPerPixel; // TPIXEL

var setEncodings = new byte[4 + (4 * encodings.Length)];
setEncodings[0] = 2;
BinaryPrimitives.WriteUInt16BigEndian(setEncodings.AsSpan(2), (ushort)encodings.Length);
for (int i = 0; i < encodings.Length; i++)
{
    BinaryPrimitives.WriteInt32BigEndian(setEncodings.AsSpan(4 + (4 * i)), encodings[i]);
}

Write(setEncodings);

void Request(bool incremental)
{
    var message = new byte[10];
    message[0] = 3;
    message[1] = incremental ? (byte)1 : (byte)0;
    BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), (ushort)width);
    BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8), (ushort)height);
    Write(message);
}

int CompactLength()
{
    int b = Read(1)[0], length = b & 0x7F;
    if ((b & 0x80) != 0)
    {
        b = Read(1)[0];
        length |= (b & 0x7F) << 7;
        if ((b & 0x80) != 0)
        {
            length |= Read(1)[0] << 14;
        }
    }

    return length;
}

void SkipTight(int w, int h)
{
    int control = Read(1)[0] >> 4;
    if (control == 8)
    {
        Skip(tightPixel); // fill
        return;
    }

    if (control == 9)
    {
        Skip(CompactLength()); // JPEG
        return;
    }

    int filter = (control & 4) != 0 ? Read(1)[0] : 0;
    long rowBits = (long)w * tightPixel * 8;
    if (filter == 1)
    {
        int colours = Read(1)[0] + 1;
        Skip(colours * tightPixel);
        rowBits = colours == 2 ? (w + 7) / 8 * 8 : w * 8L;
    }

    long size = rowBits / 8 * h;
    if (size < 12)
    {
        Skip(size);
    }
    else
    {
        Skip(CompactLength());
    }
}

bool continuous = false;

(int Frames, long Bytes, int Rects, int CopyRects) ReadUpdate()
{
    while (true)
    {
        int type = Read(1)[0];
        switch (type)
        {
            case 0:
                break;
            case 1:
                byte[] header = Read(5);
                Skip(U16(header, 3) * 6L);
                continue;
            case 2:
                continue;
            case 3:
                Read(3);
                Skip(BinaryPrimitives.ReadUInt32BigEndian(Read(4)));
                continue;
            case 150:
                // EndOfContinuousUpdates: the first says the server has them; ask for them for the whole screen.
                if (!continuous)
                {
                    continuous = true;
                    var enable = new byte[10];
                    enable[0] = 150;
                    enable[1] = 1;
                    BinaryPrimitives.WriteUInt16BigEndian(enable.AsSpan(6), (ushort)width);
                    BinaryPrimitives.WriteUInt16BigEndian(enable.AsSpan(8), (ushort)height);
                    Write(enable);
                }

                continue;
            case 248:
                byte[] fence = Read(8);
                uint flags = BinaryPrimitives.ReadUInt32BigEndian(fence.AsSpan(3));
                byte[] payload = Read(fence[7]);
                if ((flags & (1u << 31)) != 0)
                {
                    var reply = new byte[9 + payload.Length];
                    reply[0] = 248;
                    BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4), flags & 3);
                    reply[8] = (byte)payload.Length;
                    payload.CopyTo(reply, 9);
                    Write(reply);
                }

                continue;
            default:
                throw new InvalidDataException($"server message {type}");
        }

        long before = bytesIn - 1;
        int count = U16(Read(3), 1), rects = 0, copies = 0;
        for (int i = 0; i < count; i++)
        {
            byte[] r = Read(12);
            int w = U16(r, 4), h = U16(r, 6), encoding = BinaryPrimitives.ReadInt32BigEndian(r.AsSpan(8));
            switch (encoding)
            {
                case 0: Skip((long)w * h * bytesPerPixel); rects++; break;
                case 1: Read(4); rects++; copies++; break;
                case 16: Skip(BinaryPrimitives.ReadUInt32BigEndian(Read(4))); rects++; break;
                case 7: SkipTight(w, h); rects++; break;
                case -223: width = w; height = h; break;
                case -224: i = count; break;
                default: throw new InvalidDataException($"encoding {encoding}");
            }
        }

        return (rects > 0 ? 1 : 0, bytesIn - before, rects, copies);
    }
}

// /proc/PID/task/*/stat: utime + stime of the threads that are not vCPUs ("vcpuN" here, "CPU N/KVM" in QEMU).
// The process and its children: a jailed platform-vmm (what root starts by default) is its keeper's child, and it is
// the child whose threads encode. QEMU has no children here.
long NonVcpuTicks()
{
    long ticks = 0;
    var processes = new List<int> { pid };
    foreach (string thread in Directory.GetDirectories($"/proc/{pid}/task"))
    {
        string children = File.Exists(Path.Combine(thread, "children")) ? File.ReadAllText(Path.Combine(thread, "children")) : "";
        processes.AddRange(children.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => int.Parse(c, CultureInfo.InvariantCulture)));
    }

    foreach (string task in processes.SelectMany(p => Directory.Exists($"/proc/{p}/task") ? Directory.GetDirectories($"/proc/{p}/task") : []))
    {
        try
        {
            string comm = File.ReadAllText(Path.Combine(task, "comm")).Trim();
            if (comm.StartsWith("vcpu", StringComparison.Ordinal) || comm.EndsWith("/KVM", StringComparison.Ordinal))
            {
                continue;
            }

            string stat = File.ReadAllText(Path.Combine(task, "stat"));
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            // A thread that ended meanwhile.
        }
    }

    return ticks;
}

Request(incremental: false);
int keysTyped = 0;
if (typeMs > 0)
{
    // KeyEvent: type 4, down flag, 2 bytes padding, the keysym (a Latin-1 letter's is its code).
    var typist = new Thread(() =>
    {
        for (int i = 0; ; i++)
        {
            Thread.Sleep(typeMs);
            byte letter = (byte)('a' + (i % 26));
            Write([4, 1, 0, 0, 0, 0, 0, letter]);
            Write([4, 0, 0, 0, 0, 0, 0, letter]);
            Interlocked.Increment(ref keysTyped);
        }
    }) { IsBackground = true };
    typist.Start();
}

var clock = Stopwatch.StartNew();
while (clock.Elapsed.TotalSeconds < warmup)
{
    ReadUpdate();
    if (!continuous)
    {
        Request(incremental: true);
    }
}

long ticksStart = NonVcpuTicks();
int keysBefore = Volatile.Read(ref keysTyped);
var window = Stopwatch.StartNew();
int frames = 0, totalRects = 0, totalCopies = 0;
long bytes = 0;
while (window.Elapsed.TotalSeconds < seconds)
{
    var (f, b, r, c) = ReadUpdate();
    frames += f;
    bytes += b;
    totalRects += r;
    totalCopies += c;
    if (!continuous)
    {
        Request(incremental: true);
    }
}

double elapsed = window.Elapsed.TotalSeconds;
double cpuMs = (NonVcpuTicks() - ticksStart) * 10.0; // USER_HZ is 100 on Linux
int keys = Volatile.Read(ref keysTyped) - keysBefore;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"frames={frames} seconds={elapsed:F2} fps={frames / elapsed:F1} bytes={bytes} bytes_per_frame={(frames > 0 ? bytes / frames : 0)} rects={totalRects} copyrects={totalCopies} cpu_ms={cpuMs:F0} cpu_ms_per_frame={(frames > 0 ? cpuMs / frames : 0):F2} size={width}x{height} continuous={(continuous ? 1 : 0)} bytes_per_second={bytes / elapsed:F0} keys={keys}"));

/// <summary>
/// A loopback TCP proxy that holds each chunk a fixed time in each direction, and optionally carries at most a given
/// number of bytes per second: a link with added latency and limited bandwidth.
/// </summary>
internal static class DelayProxy
{
    // A slow link's bottleneck queue holds about this much time's worth of data; past it the proxy stops reading.
    private const double QueueMs = 50;

    public static IPEndPoint Start(IPEndPoint target, TimeSpan delay, long bytesPerSecond)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _ = Task.Run(async () =>
        {
            using Socket client = await listener.AcceptSocketAsync();
            using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            if (bytesPerSecond > 0)
            {
                // Small receive windows, so a full queue reaches the sender as TCP back-pressure soon, as on a slow
                // link, instead of megabytes of loopback buffer hiding the limit.
                server.ReceiveBufferSize = 64 * 1024;
                client.ReceiveBufferSize = 64 * 1024;
            }

            await server.ConnectAsync(target);
            await Task.WhenAny(PumpAsync(client, server, delay, bytesPerSecond), PumpAsync(server, client, delay, bytesPerSecond));
        });
        return (IPEndPoint)listener.LocalEndpoint;
    }

    private static async Task PumpAsync(Socket from, Socket to, TimeSpan delay, long bytesPerSecond)
    {
        var queue = System.Threading.Channels.Channel.CreateUnbounded<(long Due, byte[] Data)>();
        Task writer = Task.Run(async () =>
        {
            await foreach ((long due, byte[] data) in queue.Reader.ReadAllAsync())
            {
                long wait = due - Environment.TickCount64;
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(wait));
                }

                await to.SendAsync(data);
            }
        });
        // Limited: reads of at most 1/50 s of the rate, so one chunk never stands for a long burst.
        var buffer = new byte[bytesPerSecond > 0 ? (int)Math.Clamp(bytesPerSecond / 50, 512, 1 << 16) : 1 << 16];
        double linkFreeAt = Environment.TickCount64; // when the limited link has sent everything queued so far
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer)) > 0)
            {
                long now = Environment.TickCount64;
                double sentAt = now;
                if (bytesPerSecond > 0)
                {
                    linkFreeAt = Math.Max(now, linkFreeAt) + n * 1000.0 / bytesPerSecond;
                    sentAt = linkFreeAt;
                }

                queue.Writer.TryWrite(((long)sentAt + (long)delay.TotalMilliseconds, buffer.AsSpan(0, n).ToArray()));
                double backlog = linkFreeAt - Environment.TickCount64;
                if (bytesPerSecond > 0 && backlog > QueueMs)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(backlog - QueueMs));
                }
            }
        }
        catch (SocketException)
        {
        }

        queue.Writer.Complete();
        await writer;
    }
}
