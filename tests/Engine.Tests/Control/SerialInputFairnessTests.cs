using System.Net.Sockets;
using System.Text;
using Platform.Engine.Control;
using Platform.Engine.Host;

namespace Platform.Engine.Tests.Control;

// serial.sock clients share COM1 fairly: each has its own input queue and they feed the UART in turn, so one client's
// large paste delays another's typing by a few bytes, not by the paste (it used to be about 30 s with a real guest).
public sealed class SerialInputFairnessTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pvmserial-").FullName;
    private readonly SlowUart _uart = new();
    private readonly SerialConsoleStream _console = new();
    private readonly SerialServer _server;

    public SerialInputFairnessTests()
    {
        _server = SerialServer.Start(Path.Combine(_dir, "serial.sock"), _console, _uart);
    }

    private string SocketPath => Path.Combine(_dir, "serial.sock");

    public async ValueTask DisposeAsync()
    {
        _console.Complete();
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>
    /// COM1 as a guest that reads slowly sees it, with what <see cref="VmmHost.TryWrite"/> lets into it: room for a
    /// FIFO's worth, and a callback when the "guest" reads, as the real UART makes.
    /// </summary>
    private sealed class SlowUart : ISerialInput
    {
        private readonly Lock _lock = new();
        private readonly StringBuilder _read = new();
        private readonly Queue<byte> _fifo = new();
        private bool _roomWanted;

        public Action? RoomAvailable { get; set; }

        public int Waiting
        {
            get
            {
                lock (_lock)
                {
                    return _fifo.Count;
                }
            }
        }

        public string Read
        {
            get
            {
                lock (_lock)
                {
                    return _read.ToString();
                }
            }
        }

        public bool TryWrite(byte value)
        {
            lock (_lock)
            {
                if (_fifo.Count >= VmmHost.SerialInputBacklog)
                {
                    _roomWanted = true;
                    return false;
                }

                _fifo.Enqueue(value);
                return true;
            }
        }

        /// <summary>The guest reads one byte, if one waits.</summary>
        public bool ReadOne()
        {
            bool call;
            lock (_lock)
            {
                if (!_fifo.TryDequeue(out byte value))
                {
                    return false;
                }

                _read.Append((char)value);
                call = _roomWanted && _fifo.Count <= VmmHost.SerialInputBacklog / 2;
                _roomWanted &= !call;
            }

            if (call)
            {
                RoomAvailable?.Invoke();
            }

            return true;
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(1, timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            timeout.IsCancellationRequested.Should().BeFalse($"{what} within 20 s");
        }
    }

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), TestContext.Current.CancellationToken);
        return socket;
    }

    /// <summary>Lets the guest read one byte at a time, waiting for the server to refill; returns after <paramref name="count"/>.</summary>
    private async Task GuestReadsAsync(int count)
    {
        for (int i = 0; i < count; i++)
        {
            await WaitForAsync(() => _uart.Waiting > 0, "input for the guest");
            _uart.ReadOne();
        }
    }

    [Fact]
    public async Task A_keystroke_typed_during_another_clients_paste_reaches_the_guest_after_a_few_bytes_of_it()
    {
        const int PasteBytes = 200_000;   // more than a client's queue and the sockets hold: the rest waits in the socket
        using Socket paster = await ConnectAsync();
        using Socket typist = await ConnectAsync();
        _ = paster.SendAsync(Encoding.ASCII.GetBytes(new string('p', PasteBytes)), SocketFlags.None, TestContext.Current.CancellationToken).AsTask();
        await WaitForAsync(() => _uart.Waiting == VmmHost.SerialInputBacklog, "the paste filling the UART");
        // The UART is refilled each time the guest has read half of it: after 13 halves it is full of the paste again.
        const int ReadBefore = 13 * VmmHost.SerialInputBacklog / 2;
        await GuestReadsAsync(ReadBefore);
        await WaitForAsync(() => _uart.Waiting == VmmHost.SerialInputBacklog, "the paste refilling the UART");

        await typist.SendAsync("TYPED"u8.ToArray(), SocketFlags.None, TestContext.Current.CancellationToken);
        // The paste's queue is at its bound (the guest is not reading): the typed bytes are queued when the total grows by 5.
        await WaitForAsync(() => _server.InputQueued == SerialServer.ClientInputQueueBytes + 5, "the typed bytes queued behind a full paste queue");
        await GuestReadsAsync(3 * VmmHost.SerialInputBacklog);

        string read = _uart.Read;
        new string([.. read.Where(c => c != 'p')]).Should().Be("TYPED", "each client gets its turn");
        int pasteBytesBefore = read.IndexOf('T', StringComparison.Ordinal);
        pasteBytesBefore.Should().BeLessThanOrEqualTo(
            ReadBefore + VmmHost.SerialInputBacklog + 1,
            "the keystroke waited only for what the UART already held and one byte of the paste whose turn it was, never for the paste");
        read.Length.Should().BeLessThan(PasteBytes / 100, "the paste is far from done: the keystroke did not wait for it");
        _server.InputQueued.Should().BeLessThanOrEqualTo(SerialServer.ClientInputQueueBytes, "a client's queue is bounded; its socket holds the rest");
    }

    [Fact]
    public async Task What_a_client_sends_before_it_leaves_is_all_typed_in_order()
    {
        string text = string.Concat(Enumerable.Range(0, 500).Select(i => $"{i},"));
        using (Socket client = await ConnectAsync())
        {
            await client.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None, TestContext.Current.CancellationToken);
        }

        await GuestReadsAsync(text.Length);
        _uart.Read.Should().Be(text);
    }
}
