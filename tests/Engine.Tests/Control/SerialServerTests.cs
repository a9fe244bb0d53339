using System.Net.Sockets;
using System.Text;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Control;

// serial.sock against the echo guest: scroll-back, several readers, input from any of them.
public sealed class SerialServerTests
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_client_gets_the_scrollback_then_live_output_and_any_client_can_type()
    {
        await using var vm = ControlledVm.Start("echo");
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        using var first = await SerialClient.ConnectAsync(vm.SerialSocket);
        using var second = await SerialClient.ConnectAsync(vm.SerialSocket);

        (await first.WaitForAsync("READY")).Should().StartWith("\nPLATFORM-TEST echo START");
        await second.WaitForAsync("READY");

        await first.SendAsync("from one ");
        await second.WaitForAsync("FROM ONE ");
        await second.SendAsync("and two");
        await first.WaitForAsync("FROM ONE AND TWO");
        await second.WaitForAsync("FROM ONE AND TWO");
    }

    [Fact]
    public async Task A_client_that_leaves_does_not_disturb_the_others_and_the_end_reaches_everyone()
    {
        await using var vm = ControlledVm.Start("echo");
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        using var staying = await SerialClient.ConnectAsync(vm.SerialSocket);
        using (var leaving = await SerialClient.ConnectAsync(vm.SerialSocket))
        {
            await leaving.SendAsync("bye");
        }

        await staying.WaitForAsync("BYE");
        await staying.SendAsync("q");
        await staying.WaitForAsync("PLATFORM-TEST echo PASS");
        await vm.Run.WaitAsync(GuestTimeout, TestContext.Current.CancellationToken);
        vm.Console.Complete();
        (await staying.ReadToEndAsync()).Should().BeTrue("the server ends the stream once the console is complete");
    }

    private sealed class SerialClient : IDisposable
    {
        private readonly Socket _socket;
        private readonly StringBuilder _received = new();

        private SerialClient(Socket socket) => _socket = socket;

        public static async Task<SerialClient> ConnectAsync(string path)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            return new SerialClient(socket);
        }

        public async Task SendAsync(string text) => await _socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

        public async Task<string> WaitForAsync(string marker)
        {
            using var timeout = new CancellationTokenSource(GuestTimeout);
            byte[] buffer = new byte[4096];
            while (!_received.ToString().Contains(marker, StringComparison.Ordinal))
            {
                int read = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                read.Should().BePositive($"the stream ended before \"{marker}\"; got:\n{_received}");
                _received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            return _received.ToString();
        }

        /// <summary>Reads until end of stream; true when it ended within the timeout.</summary>
        public async Task<bool> ReadToEndAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            byte[] buffer = new byte[4096];
            while (await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }

            return true;
        }

        public void Dispose() => _socket.Dispose();
    }
}
