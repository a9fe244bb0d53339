using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;

namespace Platform.Contracts.Control;

/// <summary>
/// The typed client of a VMM's control.sock, used by the control plane and the tests. Commands may be sent from
/// any thread and run concurrently; replies are matched by id. Events arrive on <see cref="EventReceived"/>
/// (raised on the client's reader, so handlers must be quick) until <see cref="Completion"/> finishes, which
/// happens when the VMM closes the socket — normally because it exited.
/// </summary>
public sealed class VmmControlClient : IAsyncDisposable
{
    private static readonly TimeSpan GreetingTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource<ControlGreeting> _greeting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _readLoop = Task.CompletedTask;
    private long _nextId;
    private int _disposed;

    private VmmControlClient(Socket socket) => _socket = socket;

    /// <summary>Who answered: protocol version, VMM pid, machine size and the commands it knows.</summary>
    public ControlGreeting Greeting => _greeting.Task.Result;

    /// <summary>Completes when the connection ends (the VMM exited or closed it).</summary>
    public Task Completion => _readLoop;

    /// <summary>Raised for every event line (STOP, RESUME, RESET, SHUTDOWN, GUEST_PANICKED, POWERDOWN…).</summary>
    public event Action<VmmControlEvent>? EventReceived;

    /// <summary>Connects, reads the greeting and checks the protocol version.</summary>
    /// <exception cref="VmmControlException">Nothing listens there, or it does not speak this protocol.</exception>
    public static async Task<VmmControlClient> ConnectAsync(string socketPath, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new VmmControlException("Failed", $"No VMM answers on {socketPath}: {ex.Message}", ex);
        }

        var client = new VmmControlClient(socket);
        client._readLoop = client.ReadLoopAsync();
        try
        {
            var greeting = await client._greeting.Task.WaitAsync(GreetingTimeout, cancellationToken).ConfigureAwait(false);
            if (greeting.Protocol != ControlProtocol.Name || greeting.Version != ControlProtocol.Version)
            {
                throw new VmmControlException("Failed",
                    $"{socketPath} speaks {greeting.Protocol} version {greeting.Version}; this client needs {ControlProtocol.Name} version {ControlProtocol.Version}.");
            }

            return client;
        }
        catch (TimeoutException ex)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw new VmmControlException("Failed", $"{socketPath} accepted the connection but sent no greeting within {GreetingTimeout.TotalSeconds} s.", ex);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<VmmStatus> QueryStatusAsync(CancellationToken cancellationToken = default) =>
        (await ExecuteAsync(ControlProtocol.Commands.QueryStatus, cancellationToken).ConfigureAwait(false))
            .Deserialize(ControlJson.Default.VmmStatus)!;

    public async Task<VmmStats> QueryStatsAsync(CancellationToken cancellationToken = default) =>
        (await ExecuteAsync(ControlProtocol.Commands.QueryStats, cancellationToken).ConfigureAwait(false))
            .Deserialize(ControlJson.Default.VmmStats)!;

    public Task PauseAsync(CancellationToken cancellationToken = default) => ExecuteAsync(ControlProtocol.Commands.Pause, cancellationToken);

    public Task ResumeAsync(CancellationToken cancellationToken = default) => ExecuteAsync(ControlProtocol.Commands.Resume, cancellationToken);

    /// <summary>A hard reset (the reset button); the VMM restarts the guest or exits per its --on-reboot.</summary>
    public Task ResetAsync(CancellationToken cancellationToken = default) => ExecuteAsync(ControlProtocol.Commands.SystemReset, cancellationToken);

    /// <summary>Ctrl-Alt-Del: asks the guest to shut down; returns when the keys are delivered, not when it is down.</summary>
    public Task PowerdownAsync(CancellationToken cancellationToken = default) => ExecuteAsync(ControlProtocol.Commands.SystemPowerdown, cancellationToken);

    /// <summary>Ends the VMM at once; it answers first, then exits with code 0.</summary>
    public Task QuitAsync(CancellationToken cancellationToken = default) => ExecuteAsync(ControlProtocol.Commands.Quit, cancellationToken);

    /// <summary>
    /// Grows disk <paramref name="device"/> (<c>disk0</c>…) to <paramref name="sizeBytes"/> while the VM runs; the guest
    /// hears of it through virtio-blk's configuration change interrupt. Throws <see cref="VmmControlException"/> with
    /// class <c>DeviceNotFound</c>, <c>InvalidArgument</c> (not a multiple of 512, too large), <c>ShrinkRefused</c>,
    /// <c>ReadOnlyDevice</c>, <c>WrongState</c> (no machine running) or <c>Failed</c> (the image could not grow).
    /// </summary>
    /// <summary>set_link: plugs NIC <paramref name="name"/>'s cable in (<paramref name="up"/>) or pulls it out.</summary>
    public Task SetLinkAsync(string name, bool up, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return ExecuteAsync(ControlProtocol.Commands.SetLink, writer =>
        {
            writer.WriteString(ControlProtocol.SetLinkArguments.Name, name);
            writer.WriteBoolean(ControlProtocol.SetLinkArguments.Up, up);
        }, cancellationToken);
    }

    /// <summary>Sets disk <paramref name="device"/>'s limits now (null: none); the VMM keeps them across the guest's reboots.</summary>
    public Task BlockSetIoThrottleAsync(string device, long? bytesPerSecond, int? iops, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        return ExecuteAsync(ControlProtocol.Commands.BlockSetIoThrottle, writer =>
        {
            writer.WriteString(ControlProtocol.IoThrottleArguments.Device, device);
            writer.WriteNumber(ControlProtocol.IoThrottleArguments.Bps, bytesPerSecond ?? 0);
            writer.WriteNumber(ControlProtocol.IoThrottleArguments.Iops, iops ?? 0);
        }, cancellationToken);
    }

    public Task BlockResizeAsync(string device, long sizeBytes, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        return ExecuteAsync(ControlProtocol.Commands.BlockResize, writer =>
        {
            writer.WriteString(ControlProtocol.BlockResizeArguments.Device, device);
            writer.WriteNumber(ControlProtocol.BlockResizeArguments.Size, sizeBytes);
        }, cancellationToken);
    }

    /// <summary>
    /// Takes the disc out of CD-ROM drive <paramref name="device"/> (<c>cdrom0</c>). Throws <see cref="VmmControlException"/>
    /// with class <c>DeviceLocked</c> when the guest has locked the tray (the guest is asked to eject; pass
    /// <paramref name="force"/> to take it out anyway), <c>DeviceNotFound</c> or <c>WrongState</c>.
    /// </summary>
    public Task EjectAsync(string device, bool force = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        return ExecuteAsync(ControlProtocol.Commands.Eject, writer =>
        {
            writer.WriteString(ControlProtocol.MediumArguments.Device, device);
            writer.WriteBoolean(ControlProtocol.MediumArguments.Force, force);
        }, cancellationToken);
    }

    /// <summary>
    /// Puts the ISO image at <paramref name="filename"/> (a path on the VMM's host) in CD-ROM drive <paramref name="device"/>;
    /// the guest sees a new disc. Throws <see cref="VmmControlException"/> with class <c>InvalidArgument</c> for a file
    /// that is missing or not ISO 9660, <c>DeviceNotFound</c> or <c>WrongState</c>.
    /// </summary>
    public Task ChangeMediumAsync(string device, string filename, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        ArgumentException.ThrowIfNullOrEmpty(filename);
        return ExecuteAsync(ControlProtocol.Commands.ChangeMedium, writer =>
        {
            writer.WriteString(ControlProtocol.MediumArguments.Device, device);
            writer.WriteString(ControlProtocol.MediumArguments.Filename, filename);
        }, cancellationToken);
    }

    /// <summary>
    /// Puts the ISO image open in <paramref name="file"/> in CD-ROM drive <paramref name="device"/>: the descriptor goes
    /// to the VMM with the command (SCM_RIGHTS, <c>"fd": true</c>), so a jailed VMM, which cannot open the file by name,
    /// reads what this process opened. <paramref name="name"/> is what the drive reports as its medium (the file's path
    /// here). The VMM gets a duplicate: the caller still owns and closes <paramref name="file"/>. Throws as the path form.
    /// </summary>
    public Task ChangeMediumAsync(string device, string name, Microsoft.Win32.SafeHandles.SafeFileHandle file, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(file);
        return ExecuteAsync(ControlProtocol.Commands.ChangeMedium, writer =>
        {
            writer.WriteString(ControlProtocol.MediumArguments.Device, device);
            writer.WriteString(ControlProtocol.MediumArguments.Filename, name);
            writer.WriteBoolean(ControlProtocol.MediumArguments.Fd, true);
        }, file, cancellationToken);
    }

    /// <summary>Runs any command by name and returns its <c>return</c> value.</summary>
    /// <exception cref="VmmControlException">The VMM answered with an error, or the connection ended first.</exception>
    public Task<JsonElement> ExecuteAsync(string command, CancellationToken cancellationToken = default) =>
        ExecuteAsync(command, null, cancellationToken);

    /// <summary>Runs a command with arguments, written by <paramref name="writeArguments"/> into the <c>arguments</c> object.</summary>
    public Task<JsonElement> ExecuteAsync(string command, Action<Utf8JsonWriter>? writeArguments, CancellationToken cancellationToken = default) =>
        ExecuteAsync(command, writeArguments, null, cancellationToken);

    /// <summary>
    /// Runs a command with arguments and, when <paramref name="file"/> is given, that descriptor sent with the command's
    /// line (SCM_RIGHTS in the same sendmsg as its first bytes, which is how the VMM knows the line it belongs to).
    /// </summary>
    public async Task<JsonElement> ExecuteAsync(string command, Action<Utf8JsonWriter>? writeArguments,
        Microsoft.Win32.SafeHandles.SafeFileHandle? file, CancellationToken cancellationToken = default)
    {
        long id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            if (_readLoop.IsCompleted)
            {
                // The loop that fails pending replies has already run: nobody would answer this one.
                throw new VmmControlException("Failed", "The VMM closed the control connection (it has exited or is exiting).");
            }

            byte[] line = BuildCommand(command, id, writeArguments);
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                int sent = file is null ? 0 : await SendWithDescriptorAsync(line, file, cancellationToken).ConfigureAwait(false);
                if (sent < line.Length)
                {
                    await _socket.SendAsync(line.AsMemory(sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (SocketException ex)
            {
                throw new VmmControlException("Failed", $"The VMM connection is closed: {ex.Message}", ex);
            }
            finally
            {
                _sendLock.Release();
            }

            return await reply.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException ex)
        {
            // Closed while the command was on its way (the VMM ending, the supervisor letting go): the same answer as a
            // connection the VMM closed, which every caller already handles, rather than an exception none expects.
            throw new VmmControlException("Failed", "The VMM connection is closed.", ex);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>The first bytes of <paramref name="line"/> with <paramref name="file"/> attached; returns how many went.</summary>
    private async Task<int> SendWithDescriptorAsync(byte[] line, Microsoft.Win32.SafeHandles.SafeFileHandle file, CancellationToken cancellationToken)
    {
        while (true)
        {
            int sent = DescriptorSenderNative.TrySend(_socket, line, file);
            if (sent > 0)
            {
                return sent;
            }

            // The VMM's receive queue is full (it is busy, or stopped reading): wait for room, as SendAsync would.
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    private static byte[] BuildCommand(string command, long id, Action<Utf8JsonWriter>? writeArguments)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("execute", command);
            if (writeArguments is not null)
            {
                writer.WriteStartObject("arguments");
                writeArguments(writer);
                writer.WriteEndObject();
            }

            writer.WriteNumber("id", id);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private async Task ReadLoopAsync()
    {
        byte[] buffer = new byte[ControlProtocol.MaxLineBytes];
        var line = new ArrayBufferWriter<byte>(1024);
        try
        {
            while (true)
            {
                int read = await _socket.ReceiveAsync(buffer, SocketFlags.None, _closing.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                var data = buffer.AsSpan(0, read);
                int newline;
                while ((newline = data.IndexOf((byte)'\n')) >= 0)
                {
                    line.Write(data[..newline]);
                    Dispatch(line.WrittenMemory);
                    line.ResetWrittenCount();
                    data = data[(newline + 1)..];
                }

                line.Write(data);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closed by us or by the VMM.
        }
        finally
        {
            var closed = new VmmControlException("Failed", "The VMM closed the control connection (it has exited or is exiting).");
            _greeting.TrySetException(closed);
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(closed);
            }
        }
    }

    private void Dispatch(ReadOnlyMemory<byte> line)
    {
        try
        {
            DispatchLine(line);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // A line this client does not understand (a newer VMM's addition, say) is skipped, not fatal.
        }
    }

    private void DispatchLine(ReadOnlyMemory<byte> line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        if (root.TryGetProperty("greeting", out var greeting))
        {
            _greeting.TrySetResult(greeting.Deserialize(ControlJson.Default.ControlGreeting)!);
        }
        else if (root.TryGetProperty("event", out var name))
        {
            string? reason = root.TryGetProperty("data", out var data) && data.TryGetProperty("reason", out var r) ? r.GetString() : null;
            var timestamp = root.GetProperty("timestamp");
            var at = DateTimeOffset.FromUnixTimeSeconds(timestamp.GetProperty("seconds").GetInt64())
                .AddTicks(timestamp.GetProperty("microseconds").GetInt64() * 10);
            EventReceived?.Invoke(new VmmControlEvent(name.GetString()!, reason, at));
        }
        else if (root.TryGetProperty("id", out var idElement) && idElement.TryGetInt64(out long id)
            && _pending.TryGetValue(id, out var reply))
        {
            if (root.TryGetProperty("return", out var value))
            {
                reply.TrySetResult(value.Clone());
            }
            else if (root.TryGetProperty("error", out var error))
            {
                reply.TrySetException(new VmmControlException(
                    error.GetProperty("class").GetString() ?? "Failed", error.GetProperty("desc").GetString() ?? "error"));
            }
        }
    }

    /// <summary>Closes the connection; a second call (the VMM's end and a detach racing) does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already closed by the VMM.
        }

        await _readLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket.Dispose();
        _sendLock.Dispose();
        _closing.Dispose();
    }
}

/// <summary>A control command failed; <see cref="ErrorClass"/> is the protocol's error class, the message is for people.</summary>
public sealed class VmmControlException : Exception
{
    public VmmControlException(string errorClass, string message, Exception? innerException = null)
        : base(message, innerException) => ErrorClass = errorClass;

    public VmmControlException()
        : this("Failed", "The control command failed.")
    {
    }

    public VmmControlException(string message)
        : this("Failed", message)
    {
    }

    public VmmControlException(string message, Exception innerException)
        : this("Failed", message, innerException)
    {
    }

    public string ErrorClass { get; }
}
