using System.Net.Sockets;
using Platform.Engine.Control;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Control;

// A burst of clients queues on the runtime folder's sockets instead of failing: a full listen queue makes a
// non-blocking connect to a Unix socket fail at once with EAGAIN (with a backlog of 16, 34–68 of 100 did).
public sealed class ListenBacklogTests : IDisposable
{
    private const int Clients = 100;
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("pvmbacklog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_backlog_is_the_systems_maximum()
    {
        int somaxconn = int.Parse(File.ReadAllText("/proc/sys/net/core/somaxconn").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        UnixSocketListener.SystemMaxBacklog.Should().Be(somaxconn).And.BeGreaterThanOrEqualTo(Clients);
    }

    [Fact]
    public async Task A_hundred_clients_connecting_at_once_to_a_socket_nobody_accepts_on_yet_all_get_in()
    {
        string path = Path.Combine(_dir, "burst.sock");
        using Socket listener = UnixSocketListener.Listen(path);

        (int connected, string[] failures) = await ConnectAllAsync(path);

        connected.Should().Be(Clients, $"every connect queues; failures: {string.Join(", ", failures.Distinct())}");
    }

    [Fact]
    public async Task A_hundred_clients_connecting_at_once_to_each_socket_of_a_running_vmm_all_get_in()
    {
        await using var vm = ControlledVm.Start("echo");
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        vm.Vnc.Should().NotBeNull("the VM has a display");

        foreach (string path in new[] { vm.ControlSocket, vm.SerialSocket, vm.VncSocket })
        {
            (int connected, string[] failures) = await ConnectAllAsync(path);
            connected.Should().Be(Clients, $"every connect to {Path.GetFileName(path)} queues; failures: {string.Join(", ", failures.Distinct())}");
        }
    }

    /// <summary>Starts <see cref="Clients"/> non-blocking connects together and counts those that succeed.</summary>
    private static async Task<(int Connected, string[] Failures)> ConnectAllAsync(string path)
    {
        var sockets = Enumerable.Range(0, Clients).Select(_ => new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)).ToArray();
        try
        {
            var endPoint = new UnixDomainSocketEndPoint(path);
            Task<string?>[] attempts = [.. sockets.Select(async s =>
            {
                try
                {
                    await s.ConnectAsync(endPoint, TestContext.Current.CancellationToken);
                    return null;
                }
                catch (SocketException ex)
                {
                    return ex.SocketErrorCode.ToString();
                }
            })];
            string?[] results = await Task.WhenAll(attempts);
            return (results.Count(r => r is null), [.. results.OfType<string>()]);
        }
        finally
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }
        }
    }
}
