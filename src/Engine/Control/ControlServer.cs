using System.Net.Sockets;
using System.Text.Json;
using Platform.Engine.Host;
using Commands = Platform.Contracts.Control.ControlProtocol.Commands;
using ErrorClasses = Platform.Contracts.Control.ControlProtocol.ErrorClasses;

namespace Platform.Engine.Control;

/// <summary>
/// Serves control.sock: any number of clients, each greeted, each command answered on its own line, every event
/// sent to all. A malformed line gets an error reply; nothing a client sends can end the VMM except <c>quit</c>.
/// </summary>
public sealed class ControlServer : IAsyncDisposable
{
    private static readonly TimeSpan PauseTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _listener;
    private readonly VmmHost _host;
    private readonly string _path;
    private readonly byte[] _greeting;
    private readonly Lock _lock = new();
    private readonly List<ControlConnection> _connections = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    private ControlServer(Socket listener, string path, VmmHost host)
    {
        _listener = listener;
        _path = path;
        _host = host;
        _greeting = ControlReplies.Greeting(new ControlGreeting(
            ControlProtocol.Name, ControlProtocol.Version, typeof(ControlServer).Assembly.GetName().Version?.ToString(3) ?? "0.0.0", Jail.JailState.HostProcessId,
            host.Config.CpuCount, host.Config.MemoryBytes, Commands.All));
    }

    /// <summary>Listens on <paramref name="socketPath"/> (replacing a stale socket) and follows the host's events.</summary>
    public static ControlServer Start(string socketPath, VmmHost host)
    {
        var server = new ControlServer(UnixSocketListener.Listen(socketPath), socketPath, host);
        host.Event += server.Broadcast;
        server._acceptLoop = server.AcceptLoopAsync();
        return server;
    }

    public int ClientCount
    {
        get
        {
            lock (_lock)
            {
                return _connections.Count;
            }
        }
    }

    private Task AcceptLoopAsync() => UnixSocketListener.AcceptEachAsync(_listener, Accept, _stopping.Token);

    private void Accept(Socket client)
    {
        var connection = new ControlConnection(client, HandleLine);
        lock (_lock)
        {
            _connections.Add(connection);
        }

        connection.Start(_greeting);
        _ = ForgetWhenDoneAsync(connection);
    }

    private async Task ForgetWhenDoneAsync(ControlConnection connection)
    {
        await connection.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lock (_lock)
        {
            _connections.Remove(connection);
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private void Broadcast(VmmEvent vmmEvent)
    {
        byte[] line = ControlReplies.Event(ControlProtocol.Events.NameOf(vmmEvent.Kind), vmmEvent.Detail, DateTimeOffset.UtcNow);
        lock (_lock)
        {
            foreach (var connection in _connections)
            {
                connection.Send(line);
            }
        }
    }

    /// <summary>
    /// Parses one line and runs the command; always returns exactly one reply line. <paramref name="files"/> are the
    /// descriptors that came with the line: only <c>blockdev-change-medium</c> with <c>"fd": true</c> takes one, and the
    /// caller closes whatever is left.
    /// </summary>
    internal byte[] HandleLine(ReadOnlyMemory<byte> line, PassedDescriptors? files = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            return ControlReplies.Error(null, ErrorClasses.ParseError, $"the line is not JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return ControlReplies.Error(null, ErrorClasses.ParseError, "a command is a JSON object on one line");
            }

            JsonElement? id = root.TryGetProperty("id", out var idElement) ? idElement.Clone() : null;
            foreach (var member in root.EnumerateObject())
            {
                if (member.Name is not ("execute" or "arguments" or "id"))
                {
                    return ControlReplies.Error(id, ErrorClasses.InvalidCommand, $"unknown member \"{member.Name}\": a command has execute, arguments and id");
                }
            }

            if (!root.TryGetProperty("execute", out var execute) || execute.ValueKind != JsonValueKind.String)
            {
                return ControlReplies.Error(id, ErrorClasses.InvalidCommand, "\"execute\" must name a command (a string)");
            }

            string command = execute.GetString()!;
            JsonElement? arguments = root.TryGetProperty("arguments", out var given) ? given : null;
            if (arguments is { ValueKind: not JsonValueKind.Object })
            {
                return ControlReplies.Error(id, ErrorClasses.InvalidCommand, "\"arguments\" must be an object");
            }

            if (arguments is { } args && args.EnumerateObject().Any() && !Commands.WithArguments.Contains(command))
            {
                return ControlReplies.Error(id, ErrorClasses.InvalidCommand, $"{command} takes no arguments");
            }

            if (files is { Count: > 0 } && command != Commands.ChangeMedium)
            {
                return ControlReplies.Error(id, ErrorClasses.InvalidCommand,
                    $"{command} takes no descriptor, and {files.Count} came with it (closed); only blockdev-change-medium with \"fd\": true takes one");
            }

            try
            {
                return command switch
                {
                    Commands.BlockResize => BlockResize(id, arguments),
                    Commands.Eject or Commands.ChangeMedium => Medium(command, id, arguments, files),
                    Commands.SetLink => SetLink(id, arguments),
                    Commands.BlockSetIoThrottle => SetIoThrottle(id, arguments),
                    _ => Execute(command, id),
                };
            }
            catch (ControlCommandException ex)
            {
                return ControlReplies.Error(id, ex.ErrorClass, $"{command}: {ex.Message}");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A command racing the machine's tear-down (a reboot, the guest powering off) fails; the VMM goes on.
                return ControlReplies.Error(id, ErrorClasses.Failed, $"{command} failed: {ex.Message}");
            }
        }
    }

    private byte[] Execute(string command, JsonElement? id)
    {
        switch (command)
        {
            case Commands.QueryVersion:
                return ControlReplies.Return(id, writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteString("protocol", ControlProtocol.Name);
                    writer.WriteNumber("version", ControlProtocol.Version);
                    writer.WriteString("vmm_version", typeof(ControlServer).Assembly.GetName().Version?.ToString(3));
                    writer.WriteEndObject();
                });
            case Commands.QueryCommands:
                return ControlReplies.Return(id, writer =>
                {
                    writer.WriteStartArray();
                    foreach (string name in Commands.All)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("name", name);
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                });
            case Commands.QueryStatus:
                var status = _host.GetStatus();
                return ControlReplies.Return(id, writer => JsonSerializer.Serialize(writer, status, ControlJson.Default.VmmStatus));
            case Commands.QueryStats:
                var stats = _host.GetStats();
                return ControlReplies.Return(id, writer => JsonSerializer.Serialize(writer, stats, ControlJson.Default.VmmStats));
            case Commands.Pause:
                return Pause(id);
            case Commands.Resume:
                return Resume(id);
            case Commands.SystemReset:
                return _host.Current is null
                    ? NotRunning(id, command)
                    : Do(id, _host.Reset);
            case Commands.SystemPowerdown:
                return _host.Powerdown() ? ControlReplies.EmptyReturn(id) : NotRunning(id, command);
            case Commands.Quit:
                // The reply is queued before the VM stops, and the server flushes queues when it closes.
                byte[] reply = ControlReplies.EmptyReturn(id);
                _host.Quit();
                return reply;
            default:
                return ControlReplies.Error(id, ErrorClasses.CommandNotFound, $"unknown command \"{command}\"; query-commands lists them");
        }
    }

    /// <summary>block_resize {"device": NAME, "size": BYTES}: both required, nothing else.</summary>
    private byte[] BlockResize(JsonElement? id, JsonElement? arguments)
    {
        const string Usage = "block_resize takes {\"device\": \"disk0\", \"size\": BYTES}";
        if (arguments is not { } given)
        {
            return ControlReplies.Error(id, ErrorClasses.InvalidCommand, $"{Usage}; both are required");
        }

        string? device = null;
        long? size = null;
        foreach (var member in given.EnumerateObject())
        {
            switch (member.Name)
            {
                case ControlProtocol.BlockResizeArguments.Device when member.Value.ValueKind == JsonValueKind.String:
                    device = member.Value.GetString();
                    break;
                case ControlProtocol.BlockResizeArguments.Size when member.Value.ValueKind == JsonValueKind.Number && member.Value.TryGetInt64(out long bytes):
                    size = bytes;
                    break;
                default:
                    return ControlReplies.Error(id, ErrorClasses.InvalidCommand, $"{Usage}; \"{member.Name}\" is not one of them or not of its type");
            }
        }

        if (string.IsNullOrEmpty(device) || size is null)
        {
            return ControlReplies.Error(id, ErrorClasses.InvalidCommand, $"{Usage}; both are required");
        }

        _host.ResizeDisk(device, size.Value);
        return ControlReplies.EmptyReturn(id);
    }

    /// <summary>block_set_io_throttle {"device": NAME, "bps": N, "iops": N}: all three required (0: no limit), nothing else.</summary>
    private byte[] SetIoThrottle(JsonElement? id, JsonElement? arguments)
    {
        const string Usage = "block_set_io_throttle takes {\"device\": \"disk0\", \"bps\": BYTES_A_SECOND, \"iops\": REQUESTS_A_SECOND}, 0 for no limit";
        string? device = null;
        long? bps = null;
        int? iops = null;
        foreach (var member in arguments?.EnumerateObject() ?? default)
        {
            switch (member.Name)
            {
                case ControlProtocol.IoThrottleArguments.Device when member.Value.ValueKind == JsonValueKind.String:
                    device = member.Value.GetString();
                    break;
                case ControlProtocol.IoThrottleArguments.Bps when member.Value.ValueKind == JsonValueKind.Number && member.Value.TryGetInt64(out long b) && b >= 0:
                    bps = b;
                    break;
                case ControlProtocol.IoThrottleArguments.Iops when member.Value.ValueKind == JsonValueKind.Number && member.Value.TryGetInt32(out int n) && n >= 0:
                    iops = n;
                    break;
                default:
                    return ControlReplies.Error(id, ErrorClasses.InvalidCommand, $"{Usage}; \"{member.Name}\" is not one of them or not of its type");
            }
        }

        if (string.IsNullOrEmpty(device) || bps is null || iops is null)
        {
            return ControlReplies.Error(id, ErrorClasses.InvalidCommand, $"{Usage}; all three are required");
        }

        _host.SetDiskThrottle(device, bps.Value, iops.Value);
        return ControlReplies.EmptyReturn(id);
    }

    /// <summary>set_link {"name": NIC, "up": BOOL}: both required, nothing else.</summary>
    private byte[] SetLink(JsonElement? id, JsonElement? arguments)
    {
        const string Usage = "set_link takes {\"name\": \"net0\", \"up\": true}";
        string? name = null;
        bool? up = null;
        foreach (var member in arguments?.EnumerateObject() ?? default)
        {
            switch (member.Name)
            {
                case ControlProtocol.SetLinkArguments.Name when member.Value.ValueKind == JsonValueKind.String:
                    name = member.Value.GetString();
                    break;
                case ControlProtocol.SetLinkArguments.Up when member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    up = member.Value.GetBoolean();
                    break;
                default:
                    return ControlReplies.Error(id, ErrorClasses.InvalidCommand, $"{Usage}; \"{member.Name}\" is not one of them or not of its type");
            }
        }

        if (string.IsNullOrEmpty(name) || up is null)
        {
            return ControlReplies.Error(id, ErrorClasses.InvalidCommand, $"{Usage}; both are required");
        }

        _host.SetLink(name, up.Value);
        return ControlReplies.EmptyReturn(id);
    }

    /// <summary>
    /// eject {"device", "force"?} and blockdev-change-medium {"device", "filename", "fd"?}: with <c>"fd": true</c> the image
    /// is the one descriptor sent with the line, and <c>filename</c> only names it.
    /// </summary>
    private byte[] Medium(string command, JsonElement? id, JsonElement? arguments, PassedDescriptors? files)
    {
        bool eject = command == Commands.Eject;
        string usage = eject
            ? "eject takes {\"device\": \"cdrom0\", \"force\": false}; force may be left out"
            : "blockdev-change-medium takes {\"device\": \"cdrom0\", \"filename\": \"/path/to/image.iso\", \"fd\": false}; "
              + "device and filename are required, and with fd true the image is the descriptor sent with the line (SCM_RIGHTS), which filename only names";
        string? device = null, filename = null;
        bool force = false, passed = false;
        foreach (var member in arguments?.EnumerateObject() ?? default)
        {
            switch (member.Name)
            {
                case ControlProtocol.MediumArguments.Device when member.Value.ValueKind == JsonValueKind.String:
                    device = member.Value.GetString();
                    break;
                case ControlProtocol.MediumArguments.Force when eject && member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    force = member.Value.GetBoolean();
                    break;
                case ControlProtocol.MediumArguments.Filename when !eject && member.Value.ValueKind == JsonValueKind.String:
                    filename = member.Value.GetString();
                    break;
                case ControlProtocol.MediumArguments.Fd when !eject && member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    passed = member.Value.GetBoolean();
                    break;
                default:
                    return ControlReplies.Error(id, ErrorClasses.InvalidCommand, $"{usage}; \"{member.Name}\" is not one of them or not of its type");
            }
        }

        if (string.IsNullOrEmpty(device) || (!eject && string.IsNullOrEmpty(filename)))
        {
            return ControlReplies.Error(id, ErrorClasses.InvalidCommand, usage);
        }

        int descriptors = files?.Count ?? 0;
        if (passed != (descriptors > 0) || descriptors > 1)
        {
            return ControlReplies.Error(id, ErrorClasses.InvalidCommand, passed
                ? $"\"fd\": true needs exactly one descriptor sent with the line (SCM_RIGHTS, in the same sendmsg); {descriptors} came"
                : $"{descriptors} descriptor(s) came with the line (closed) but \"fd\" is not true; {usage}");
        }

        if (eject)
        {
            _host.EjectMedium(device, force);
        }
        else if (passed)
        {
            _host.ChangeMedium(device, filename!, files!.TakeSingle()!);
        }
        else
        {
            _host.ChangeMedium(device, filename!);
        }

        return ControlReplies.EmptyReturn(id);
    }

    private byte[] Pause(JsonElement? id) => _host.State switch
    {
        VmRunState.Paused => ControlReplies.EmptyReturn(id),
        VmRunState.Running => _host.Pause()
            ? ControlReplies.EmptyReturn(id)
            : ControlReplies.Error(id, ErrorClasses.Failed, $"the vCPUs did not stop within {PauseTimeout.TotalSeconds} s"),
        _ => NotRunning(id, Commands.Pause),
    };

    private byte[] Resume(JsonElement? id) => _host.State switch
    {
        VmRunState.Running => ControlReplies.EmptyReturn(id),
        VmRunState.Paused => _host.Resume() ? ControlReplies.EmptyReturn(id) : NotRunning(id, Commands.Resume),
        _ => NotRunning(id, Commands.Resume),
    };

    private static byte[] Do(JsonElement? id, Action action)
    {
        action();
        return ControlReplies.EmptyReturn(id);
    }

    private byte[] NotRunning(JsonElement? id, string command) =>
        ControlReplies.Error(id, ErrorClasses.WrongState, $"{command} needs a running VM; the VM is {_host.GetStatus().Status}");

    /// <summary>Stops accepting, lets every client receive what is queued (the final SHUTDOWN), and removes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _host.Event -= Broadcast;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        ControlConnection[] connections;
        lock (_lock)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections.Select(c => c.FlushAndCloseAsync(TimeSpan.FromSeconds(1)))).ConfigureAwait(false);
        File.Delete(_path);
        _stopping.Dispose();
    }
}
