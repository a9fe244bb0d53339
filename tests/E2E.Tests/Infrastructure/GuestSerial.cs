using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Services.Runtime;

namespace Platform.E2E.Tests.Infrastructure;

/// <summary>
/// A running VM's serial output, read from its VMM's own serial.sock (the scroll-back comes first), so a browser test
/// checks what reached the guest without going through the page it is testing.
/// </summary>
public static class GuestSerial
{
    /// <summary>Reads until <paramref name="marker"/> appears and returns everything read; fails after
    /// <paramref name="timeout"/>, saying what the guest printed.</summary>
    public static Task<string> ReadUntilAsync(DashboardServer server, Guid vmId, string marker, TimeSpan timeout, CancellationToken cancellationToken) =>
        ReadUntilAsync(server, vmId, text => text.Contains(marker, StringComparison.Ordinal), $"\"{marker}\"", timeout, cancellationToken);

    /// <summary>Reads until <paramref name="done"/> holds for everything read so far (<paramref name="what"/> says what
    /// it waits for, in the failure) and returns it.</summary>
    public static async Task<string> ReadUntilAsync(
        DashboardServer server, Guid vmId, Func<string, bool> done, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string path = server.Services.GetRequiredService<IVmRuntimeInfo>().GetSocketPath(vmId, VmSocket.Serial)
            ?? throw new InvalidOperationException($"VM {vmId} is not running: it has no serial socket");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
        var text = new StringBuilder();
        byte[] buffer = new byte[16 * 1024];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (!done(text.ToString()))
            {
                int read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                read.Should().BePositive($"the guest's serial stays open until it prints {what}; so far:\n{Tail(text)}");
                text.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The guest did not print {what} within {timeout.TotalSeconds:0} s; it printed:\n{Tail(text)}");
        }

        return text.ToString();
    }

    private static string Tail(StringBuilder text) => text.Length <= 2000 ? text.ToString() : text.ToString(text.Length - 2000, 2000);
}
