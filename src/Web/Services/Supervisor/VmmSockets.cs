using System.Net.Sockets;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// Connecting to a VMM's sockets (control.sock, serial.sock, vnc.sock) in its runtime folder, which the jailed VM owns:
/// a name there could have been made a link to another service's socket, so each connection goes through an O_PATH
/// descriptor checked to be a socket the VMM bound as root (<see cref="RuntimeFolder.OpenSocket"/>), never the name.
/// </summary>
internal static class VmmSockets
{
    /// <summary>A connected stream socket to <paramref name="socketPath"/>; a <see cref="SocketException"/> when there is none or it is refused.</summary>
    public static async Task<Socket> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        using var checkedFile = Open(socketPath, out string connectPath);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(connectPath), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A control client on running VM <paramref name="vmId"/>'s control.sock, through <see cref="ConnectControlAsync(string, CancellationToken)"/>;
    /// a <see cref="Runtime.VmRuntimeException"/> when the VM is not running.
    /// </summary>
    public static Task<VmmControlClient> ConnectControlAsync(Runtime.IVmRuntimeInfo runtimeInfo, Guid vmId, CancellationToken cancellationToken) =>
        ConnectControlAsync(runtimeInfo.GetSocketPath(vmId, Runtime.VmSocket.Control)
            ?? throw new Runtime.VmRuntimeException("The VM is not running any more."), cancellationToken);

    /// <summary>A control client on <paramref name="socketPath"/>; a <see cref="VmmControlException"/> when there is no such socket, it is refused, or nothing answers.</summary>
    public static async Task<VmmControlClient> ConnectControlAsync(string socketPath, CancellationToken cancellationToken)
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle checkedFile;
        string connectPath;
        try
        {
            checkedFile = Open(socketPath, out connectPath);
        }
        catch (SocketException ex)
        {
            throw new VmmControlException("Failed", $"No VMM answers on {socketPath}: {ex.Message}", ex);
        }

        using (checkedFile)
        {
            return await VmmControlClient.ConnectAsync(connectPath, cancellationToken);
        }
    }

    private static Microsoft.Win32.SafeHandles.SafeFileHandle Open(string socketPath, out string connectPath)
    {
        try
        {
            using var folder = RuntimeFolder.Open(Path.GetDirectoryName(socketPath)!);
            if (folder?.OpenSocket(Path.GetFileName(socketPath), out var handle) is { } path && handle is not null)
            {
                connectPath = path;
                return handle;
            }
        }
        catch (IOException)
        {
            // The folder is not one: as if there were no socket.
        }

        throw new SocketException((int)SocketError.ConnectionRefused);
    }
}
