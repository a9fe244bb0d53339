using System.Buffers.Binary;
using System.Net;
using Platform.Devices.Virtio.Net;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Net;

/// <summary>
/// User-mode NAT for one NIC: a passt process, the VMM's own child, on one end of a Unix stream socket pair (passed
/// as <c>--fd 3</c>), and the frames moved over the other end in QEMU's <c>-netdev stream</c> framing. passt gives the
/// guest DHCP, DHCPv6/NDP and DNS, carries its TCP, UDP and ICMP through the host's own sockets, and forwards host
/// ports to it; we write no TCP/IP stack.
/// </summary>
/// <remarks>
/// <para>passt ends by itself when the socket closes, so it never outlives the VMM, even one killed with SIGKILL.
/// If it dies while the VM runs, the next read or write finds the socket closed and a new passt starts on a new pair
/// (<see cref="Restarts"/> counts them); one that keeps dying (<see cref="MaxRestarts"/> within
/// <see cref="RestartWindow"/>) is given up on and the NIC carries nothing, saying why in <see cref="LastError"/>.</para>
/// <para>Frames are plain Ethernet (no virtio header, no offloads): passt takes and gives whole, checksummed frames.
/// Reads land in <see cref="LengthPrefixedFrames"/> and go from there to the guest in one copy. Writes send the length
/// and the frame in one sendmsg; when the socket's buffer is full the rest of the frame waits here and
/// <see cref="CanSend"/> turns false, so the guest's next frames wait in its queue instead of being dropped.</para>
/// <para>passt learns the MTU from us (<c>--mtu 1500</c>), and it stays 1500 even though virtio-net offers mergeable
/// receive buffers, with which a guest could take passt's default of 65520: passt fixes its MTU when it starts, before
/// the guest's driver has negotiated anything, and a guest without VIRTIO_NET_F_MRG_RXBUF posts buffers for 1514-byte
/// frames, so larger ones would be dropped. The MTU passt announces in DHCP and router advertisements is the same
/// 1500, so a guest never sends what the other side could not return.</para>
/// </remarks>
public sealed class PasstBackend : INetBackend
{
    public const int MaxRestarts = 5;
    public static readonly TimeSpan RestartWindow = TimeSpan.FromSeconds(30);

    /// <summary>The descriptor passt is told to use (<c>--fd 3</c>).</summary>
    private const int PasstFd = 3;

    private readonly string _program;
    private readonly IReadOnlyList<string> _arguments;
    private readonly LengthPrefixedFrames _frames = new();
    private readonly byte[] _unsent = new byte[LengthPrefixedFrames.PrefixSize + VirtioNet.MaxFrameSize];
    private readonly Queue<long> _restartTimes = new();
    private readonly object _gate = new();
    private StreamSocket _socket;
    private ChildProcess _passt;
    private int _unsentOffset;
    private int _unsentLength;
    private Action? _frameAvailable;
    private Action? _sendReady;
    private Action<FileDescriptorHandle, FileDescriptorHandle>? _socketReplaced;
    private Action<string, bool>? _backendChanged;
    private bool _givenUp;
    private bool _disposed;
    private long _restarts;
    private long _protocolErrors;
    private string? _lastError;

    private PasstBackend(string program, IReadOnlyList<string> arguments)
    {
        _program = program;
        _arguments = arguments;
        (_socket, _passt) = Spawn(program, arguments);
    }

    /// <summary>The passt program: <c>PLATFORM_PASST</c> when set, else the first <c>passt</c> on PATH or in /usr/bin.</summary>
    public static string? FindProgram()
    {
        if (Environment.GetEnvironmentVariable("PLATFORM_PASST") is { Length: > 0 } configured)
        {
            return configured;
        }

        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/local/bin");
        return folders.Select(folder => Path.Combine(folder, "passt")).FirstOrDefault(File.Exists);
    }

    /// <summary>passt's arguments for <paramref name="forwards"/>, besides <c>--fd</c>.</summary>
    public static IReadOnlyList<string> Arguments(IReadOnlyList<PortForwardConfig> forwards, bool runningAsRoot)
    {
        // -f: stay our child; -q: only warnings and errors, on stderr (the VMM's, so the dashboard's log has them).
        var arguments = new List<string> { "--foreground", "--quiet", "--stderr", "--mtu", "1500" };
        if (runningAsRoot)
        {
            // passt refuses to keep root; naming the user it drops to keeps it from saying so on every start.
            arguments.AddRange(["--runas", "65534:65534"]);
        }

        foreach (var forward in forwards)
        {
            // passt's spec is [address/]port[:target port].
            string address = IPAddress.Parse(forward.HostAddress).ToString();
            arguments.Add(forward.Protocol == ForwardProtocol.Udp ? "--udp-ports" : "--tcp-ports");
            arguments.Add($"{address}/{forward.HostPort}:{forward.GuestPort}");
        }

        arguments.AddRange(["--fd", PasstFd.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        return arguments;
    }

    /// <summary>Starts passt for a NIC with <paramref name="forwards"/>; throws <see cref="IOException"/> saying what is missing.</summary>
    public static PasstBackend Start(IReadOnlyList<PortForwardConfig> forwards) => Start(forwards, FindProgram() ?? throw new IOException(
        "User-mode networking needs passt, which is not installed (apt-get install passt, or set PLATFORM_PASST)."));

    /// <summary>Starts <paramref name="program"/> as the NIC's passt (tests give a stand-in that misbehaves).</summary>
    internal static PasstBackend Start(IReadOnlyList<PortForwardConfig> forwards, string program) =>
        new(program, Arguments(forwards, LibcNative.GetEuid() == 0));

    public bool HasVirtioHeader => false;

    public ulong SupportedOffloads => 0;

    /// <summary>passt processes started after the first one ended.</summary>
    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>Streams that broke the framing (a length of 0 or past the largest frame); each cost a restart.</summary>
    public long ProtocolErrors => Interlocked.Read(ref _protocolErrors);

    /// <summary>Why passt last ended, or why it was given up on; null while all is well.</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>The current passt's process id (tests end it to see the restart).</summary>
    public int ProcessId => _passt.Pid;

    /// <summary>Our end of the socket, for the event loop.</summary>
    internal FileDescriptorHandle Handle => _socket.Handle;

    /// <summary>Told (old descriptor, new descriptor) when a restart replaces the socket, so the event loop watches the new one.</summary>
    internal void OnSocketReplaced(Action<FileDescriptorHandle, FileDescriptorHandle> replaced) => _socketReplaced = replaced;

    /// <summary>
    /// Tells <paramref name="changed"/> each time passt ended: with what happened and false when a new passt took over,
    /// true when the NIC was given up on. Called on the device's worker thread.
    /// </summary>
    internal void OnBackendChanged(Action<string, bool> changed) => _backendChanged = changed;

    /// <summary>The event loop saw the socket readable, writable or hung up.</summary>
    internal void OnReady()
    {
        _frameAvailable?.Invoke();
        _sendReady?.Invoke();
    }

    public void EnableOffloads(ulong negotiatedOffloads)
    {
    }

    public void SetNotifiers(Action frameAvailable, Action sendReady)
    {
        _frameAvailable = frameAvailable;
        _sendReady = sendReady;
    }

    public ReadOnlySpan<byte> PeekFrame()
    {
        while (!_givenUp)
        {
            ReadOnlySpan<byte> frame;
            try
            {
                frame = _frames.Peek();
            }
            catch (InvalidDataException ex)
            {
                Interlocked.Increment(ref _protocolErrors);
                Restart($"passt sent {ex.Message}");
                continue;
            }

            if (!frame.IsEmpty)
            {
                return frame;
            }

            int read = _socket.Receive(_frames.FreeSpace);
            if (read > 0)
            {
                _frames.Commit(read);
            }
            else if (read == -LibcNative.EAGAIN)
            {
                return default;
            }
            else if (read != -LibcNative.EINTR)
            {
                Restart(read == 0 ? "passt closed the connection" : $"reading from passt failed: errno {-read}");
            }
        }

        return default;
    }

    public void ConsumeFrame() => _frames.Consume();

    public bool CanSend => !_givenUp && Flush();

    public bool Send(ReadOnlySpan<byte> frame)
    {
        if (_givenUp || !Flush())
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[LengthPrefixedFrames.PrefixSize];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)frame.Length);
        int sent = _socket.Send(prefix, frame);
        if (sent == -LibcNative.EAGAIN || sent == -LibcNative.EINTR)
        {
            sent = 0;
        }
        else if (sent < 0)
        {
            Restart($"writing to passt failed: errno {-sent}");
            return false; // this frame is lost with the connection; the next goes to the new passt
        }

        int total = prefix.Length + frame.Length;
        if (sent < total)
        {
            // The socket took part of it: the rest must follow before anything else, or the stream is garbled.
            _unsentLength = total - sent;
            _unsentOffset = 0;
            int fromPrefix = Math.Max(0, prefix.Length - sent);
            prefix[(prefix.Length - fromPrefix)..].CopyTo(_unsent);
            frame[Math.Max(0, sent - prefix.Length)..].CopyTo(_unsent.AsSpan(fromPrefix));
        }

        return true;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _socket.Dispose(); // passt sees the connection close and exits by itself
        _passt.Stop(TimeSpan.FromMilliseconds(500));
    }

    /// <summary>Writes what a partial write left; true when nothing is left.</summary>
    private bool Flush()
    {
        while (_unsentLength > 0)
        {
            int sent = _socket.Send(_unsent.AsSpan(_unsentOffset, _unsentLength), default);
            if (sent == -LibcNative.EAGAIN)
            {
                return false;
            }

            if (sent == -LibcNative.EINTR)
            {
                continue;
            }

            if (sent < 0)
            {
                Restart($"writing to passt failed: errno {-sent}");
                return !_givenUp;
            }

            _unsentOffset += sent;
            _unsentLength -= sent;
        }

        return true;
    }

    /// <summary>Replaces a passt that ended (or broke the stream) with a new one, unless they keep ending.</summary>
    private void Restart(string why)
    {
        lock (_gate)
        {
            if (_disposed || _givenUp)
            {
                return;
            }

            var old = _socket;
            _passt.Stop(TimeSpan.FromMilliseconds(200));
            string ended = $"{why} ({_passt.Describe()})";
            _frames.Clear();
            _unsentLength = 0;

            long now = Environment.TickCount64;
            _restartTimes.Enqueue(now);
            while (_restartTimes.Count > 0 && now - _restartTimes.Peek() > (long)RestartWindow.TotalMilliseconds)
            {
                _restartTimes.Dequeue();
            }

            if (_restartTimes.Count > MaxRestarts)
            {
                _givenUp = true;
                Volatile.Write(ref _lastError, $"{ended}; it ended {_restartTimes.Count} times in {RestartWindow.TotalSeconds:0} s, so the NIC is left without a network");
                Console.Error.WriteLine($"platform-vmm: {_lastError}");
                _backendChanged?.Invoke(_lastError!, true);
                return;
            }

            try
            {
                (_socket, _passt) = Spawn(_program, _arguments);
            }
            catch (IOException ex)
            {
                _givenUp = true;
                Volatile.Write(ref _lastError, $"{ended}; starting it again failed: {ex.Message}");
                Console.Error.WriteLine($"platform-vmm: {_lastError}");
                _backendChanged?.Invoke(_lastError!, true);
                return;
            }

            Interlocked.Increment(ref _restarts);
            Volatile.Write(ref _lastError, ended);
            Console.Error.WriteLine($"platform-vmm: {ended}; started passt again (pid {_passt.Pid}, restart {Restarts})");
            _backendChanged?.Invoke($"{ended}; started passt again (restart {Restarts})", false);
            _socketReplaced?.Invoke(old.Handle, _socket.Handle);
            old.Dispose();
        }
    }

    private static (StreamSocket Socket, ChildProcess Passt) Spawn(string program, IReadOnlyList<string> arguments)
    {
        Jail.JailState.ThrowIfProgramsForbidden(program); // before socketpair, which the jail's filter does not allow either
        var (ours, theirs) = StreamSocket.CreatePair();
        try
        {
            using (theirs)
            {
                return (ours, ChildProcess.Start(program, arguments, theirs, PasstFd));
            }
        }
        catch
        {
            ours.Dispose();
            throw;
        }
    }
}
