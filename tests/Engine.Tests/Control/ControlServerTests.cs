using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Platform.Engine.Control;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Control;

// The control socket against real test guests: the typed client, the raw protocol, and clients that misbehave.
public sealed class ControlServerTests
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_client_is_greeted_and_queries_status_and_stats_of_a_running_guest()
    {
        await using var vm = ControlledVm.Start("echo", cpus: 2);
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);

        client.Greeting.Protocol.Should().Be(ControlProtocol.Name);
        client.Greeting.Pid.Should().Be(Environment.ProcessId);
        client.Greeting.Cpus.Should().Be(2);
        client.Greeting.MemoryBytes.Should().Be(64ul << 20);
        client.Greeting.Commands.Should().Contain(["pause", "resume", "system_powerdown", "quit", "query-stats"]);

        var status = await client.QueryStatusAsync(Token);
        status.Status.Should().Be(VmRunState.Running);
        status.Running.Should().BeTrue();
        status.Boots.Should().Be(1);

        vm.Host.SendSerialInput("abc"u8);
        await vm.WaitForOutputAsync("ABC", GuestTimeout);
        var stats = await client.QueryStatsAsync(Token);
        stats.Vcpus.Select(v => v.Index).Should().Equal(0, 1);
        stats.Vcpus[0].Exits.Should().BePositive("the guest printed through port I/O exits");
        stats.GuestMemoryBytes.Should().Be(64ul << 20);
        stats.VmmRssBytes.Should().BePositive();
        var com1 = stats.Devices.Single(d => d.Name == "com1").Counters;
        com1["rx_bytes"].Should().Be(3);
        com1["tx_bytes"].Should().Be(vm.Console.TotalWritten);
    }

    [Fact]
    public async Task A_command_on_a_client_already_closed_fails_as_a_closed_connection_and_a_second_close_does_nothing()
    {
        // A supervisor reading a VM's counters while it lets go of the VMM (a stop, a detach) used to get an
        // ObjectDisposedException that nobody expected; with a thousand VMs stopping, the history's background service
        // died of it and took the dashboard down.
        await using var vm = ControlledVm.Start("echo");
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        await client.DisposeAsync();

        var query = () => client.QueryStatsAsync(Token);
        (await query.Should().ThrowAsync<VmmControlException>()).Which.Message.Should().Contain("closed");
        await client.DisposeAsync(); // the end of the VMM and a detach can both close it
    }

    [Fact]
    public async Task Pause_and_resume_stop_the_guest_and_send_events_to_every_client()
    {
        await using var vm = ControlledVm.Start("echo");
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        await using var first = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        await using var second = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        var seen = new ConcurrentQueue<string>();
        second.EventReceived += e => seen.Enqueue(e.Name);

        await first.PauseAsync(Token);
        (await first.QueryStatusAsync(Token)).Status.Should().Be(VmRunState.Paused);
        vm.Host.SendSerialInput("x"u8);
        await Task.Delay(300, Token);
        vm.Output.Should().NotContain("X", "a paused guest runs no code");
        await first.PauseAsync(Token); // pausing a paused VM is not an error, as in QMP

        await first.ResumeAsync(Token);
        await vm.WaitForOutputAsync("X", GuestTimeout);
        (await second.QueryStatusAsync(Token)).Running.Should().BeTrue();
        await WaitUntilAsync(() => seen.Count >= 2);
        seen.Should().Equal(ControlProtocol.Events.Stop, ControlProtocol.Events.Resume);
    }

    [Fact]
    public async Task System_powerdown_types_ctrl_alt_del_that_the_guest_reads_from_the_i8042()
    {
        await using var vm = ControlledVm.Start("kbd");
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        var events = new ConcurrentQueue<VmmControlEvent>();
        client.EventReceived += events.Enqueue;

        await client.PowerdownAsync(Token);

        string output = await vm.WaitForOutputAsync("PLATFORM-TEST kbd PASS", GuestTimeout);
        output.Should().Contain("key 1d").And.Contain("key 38").And.Contain("key e0\nkey 53").And.Contain("ctrl-alt-del");
        (await vm.Run.WaitAsync(GuestTimeout, Token)).Should().Be(VmmExitCode.GuestReset, "the guest resets after its verdict and the policy is exit");
        await WaitUntilAsync(() => events.Any(e => e.Name == ControlProtocol.Events.Shutdown));
        events.Select(e => e.Name).Should().StartWith(ControlProtocol.Events.Powerdown);
        events.Single(e => e.Name == ControlProtocol.Events.Shutdown).Reason.Should().Be("guest-reset");
    }

    [Fact]
    public async Task System_reset_reboots_the_guest_under_the_restart_policy()
    {
        await using var vm = ControlledVm.Start("echo", onReboot: RebootPolicy.Restart);
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        var events = new ConcurrentQueue<string>();
        client.EventReceived += e => events.Enqueue(e.Name);

        await client.ResetAsync(Token);

        await WaitUntilAsync(() => vm.Output.Split("READY").Length == 3);
        (await client.QueryStatusAsync(Token)).Boots.Should().Be(2);
        events.Should().Contain(ControlProtocol.Events.Reset);
    }

    [Fact]
    public async Task Quit_answers_then_ends_the_vm_and_the_connection()
    {
        await using var vm = ControlledVm.Start("echo");
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        var events = new ConcurrentQueue<VmmControlEvent>();
        client.EventReceived += events.Enqueue;

        await client.QuitAsync(Token);

        (await vm.Run.WaitAsync(GuestTimeout, Token)).Should().Be(VmmExitCode.PowerOff);
        await WaitUntilAsync(() => !events.IsEmpty);
        events.Single().Should().Match<VmmControlEvent>(e => e.Name == "SHUTDOWN" && e.Reason == "host-qmp-quit");
        (await client.QueryStatusAsync(Token)).Status.Should().Be(VmRunState.Stopped);
        var act = () => client.PauseAsync(Token);
        (await act.Should().ThrowAsync<VmmControlException>()).Which.ErrorClass.Should().Be("WrongState");

        // platform-vmm closes the server when the VM has ended: the client sees the connection end.
        await vm.Control.DisposeAsync();
        await client.Completion.WaitAsync(TimeSpan.FromSeconds(5), Token);
        File.Exists(vm.ControlSocket).Should().BeFalse();
        await client.DisposeAsync();
    }

    [Theory]
    [InlineData("not json", "ParseError")]
    [InlineData("[1,2,3]", "ParseError")]
    [InlineData("{\"execute\":42,\"id\":1}", "InvalidCommand")]
    [InlineData("{\"id\":1}", "InvalidCommand")]
    [InlineData("{\"execute\":\"pause\",\"id\":1,\"extra\":true}", "InvalidCommand")]
    [InlineData("{\"execute\":\"pause\",\"id\":1,\"arguments\":{\"now\":1}}", "InvalidCommand")]
    [InlineData("{\"execute\":\"pause\",\"id\":1,\"arguments\":[]}", "InvalidCommand")]
    [InlineData("{\"execute\":\"format-disk\",\"id\":1}", "CommandNotFound")]
    [InlineData("{\"execute\":\"query-status\",\"id\":1", "ParseError")]
    [InlineData("{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "ParseError")]
    public async Task A_malformed_command_gets_an_error_reply_and_the_connection_keeps_working(string line, string errorClass)
    {
        await using var vm = ControlledVm.Start("echo");
        using var raw = await RawConnection.OpenAsync(vm.ControlSocket);

        var reply = await raw.CommandAsync(line);
        reply.GetProperty("error").GetProperty("class").GetString().Should().Be(errorClass);
        reply.GetProperty("error").GetProperty("desc").GetString().Should().NotBeNullOrWhiteSpace();

        var status = await raw.CommandAsync("{\"execute\":\"query-status\",\"id\":\"after\"}");
        status.GetProperty("id").GetString().Should().Be("after");
        status.GetProperty("return").GetProperty("status").GetString().Should().BeOneOf("starting", "running");
    }

    [Fact]
    public async Task Replies_echo_any_json_id_and_commands_on_one_read_are_answered_in_order()
    {
        await using var vm = ControlledVm.Start("echo");
        using var raw = await RawConnection.OpenAsync(vm.ControlSocket);

        await raw.SendAsync("{\"execute\":\"query-version\",\"id\":{\"n\":[1,\"two\"]}}\n\r\n{\"execute\":\"query-commands\",\"id\":null}\n");
        var first = await raw.ReadReplyAsync();
        var second = await raw.ReadReplyAsync();

        first.GetProperty("id").GetRawText().Should().Be("{\"n\":[1,\"two\"]}");
        first.GetProperty("return").GetProperty("version").GetInt32().Should().Be(ControlProtocol.Version);
        second.GetProperty("id").ValueKind.Should().Be(JsonValueKind.Null);
        second.GetProperty("return").GetArrayLength().Should().Be(ControlProtocol.Commands.All.Count);
    }

    [Fact]
    public async Task Garbage_and_an_endless_line_close_only_that_client()
    {
        await using var vm = ControlledVm.Start("echo");
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        var random = new Random(1234);
        for (int i = 0; i < 50; i++)
        {
            using var fuzz = await RawConnection.OpenAsync(vm.ControlSocket);
            byte[] junk = new byte[random.Next(1, 2000)];
            random.NextBytes(junk);
            await fuzz.SendAsync(junk);
        }

        using (var flood = await RawConnection.OpenAsync(vm.ControlSocket))
        {
            await flood.SendAsync(new string('x', ControlProtocol.MaxLineBytes + 10));
            var error = await flood.ReadReplyAsync();
            error.GetProperty("error").GetProperty("desc").GetString().Should().Contain("at most");
            (await flood.IsClosedAsync()).Should().BeTrue();
        }

        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        (await client.QueryStatusAsync(Token)).Running.Should().BeTrue();
        vm.Host.SendSerialInput("ok"u8);
        await vm.WaitForOutputAsync("OK", GuestTimeout);
    }

    [Fact]
    public async Task A_stale_socket_is_replaced_but_a_live_one_is_refused()
    {
        await using var vm = ControlledVm.Start("echo");
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        string stale = Path.Combine(vm.Directory, "stale.sock");
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(stale));
        }

        await using (var replaced = ControlServer.Start(stale, vm.Host))
        {
            await using var client = await VmmControlClient.ConnectAsync(stale, Token);
            (await client.QueryStatusAsync(Token)).Boots.Should().Be(1);
        }

        var act = () => ControlServer.Start(vm.ControlSocket, vm.Host);
        act.Should().Throw<IOException>().WithMessage("*still running*");
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the condition should have become true");
            await Task.Delay(20);
        }
    }

    /// <summary>The protocol without the client library: what a hand-written or hostile client sends.</summary>
    private sealed class RawConnection : IDisposable
    {
        private readonly Socket _socket;
        private readonly List<byte> _pending = [];

        private RawConnection(Socket socket) => _socket = socket;

        public static async Task<RawConnection> OpenAsync(string path)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            var connection = new RawConnection(socket);
            (await connection.ReadLineAsync()).TryGetProperty("greeting", out _).Should().BeTrue();
            return connection;
        }

        public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

        public async Task SendAsync(byte[] bytes)
        {
            try
            {
                await _socket.SendAsync(bytes, SocketFlags.None);
            }
            catch (SocketException)
            {
                // The server may close a fuzzing client before it has sent everything.
            }
        }

        /// <summary>Sends a line and returns the reply, skipping events (the guest may start meanwhile: RESUME).</summary>
        public async Task<JsonElement> CommandAsync(string line)
        {
            await SendAsync(line + "\n");
            return await ReadReplyAsync();
        }

        public async Task<JsonElement> ReadReplyAsync()
        {
            while (true)
            {
                var message = await ReadLineAsync();
                if (!message.TryGetProperty("event", out _))
                {
                    return message;
                }
            }
        }

        public async Task<JsonElement> ReadLineAsync()
        {
            byte[] buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                int newline = _pending.IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    byte[] line = [.. _pending.Take(newline)];
                    _pending.RemoveRange(0, newline + 1);
                    using var document = JsonDocument.Parse(line);
                    return document.RootElement.Clone();
                }

                int read = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                read.Should().BePositive("the server should answer before closing");
                _pending.AddRange(buffer.AsSpan(0, read).ToArray());
            }
        }

        public async Task<bool> IsClosedAsync()
        {
            byte[] buffer = new byte[1];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                return await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) == 0;
            }
            catch (SocketException)
            {
                return true;
            }
        }

        public void Dispose() => _socket.Dispose();
    }
}
