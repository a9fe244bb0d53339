using Platform.Devices.Virtio.Net;

namespace Platform.Engine.Net;

/// <summary>
/// The backends of a VM's NICs — a passt of its own, an existing TAP, a TAP made on a bridge — opened once, when the
/// first boot is built, and kept across guest resets, as QEMU keeps a <c>-netdev</c> across <c>system_reset</c>: each
/// boot's virtio-net is a new device on the same backend. A jailed VMM needs this: inside its jail it may not start
/// passt (no execve) nor make a TAP (no CAP_NET_ADMIN, no /dev/net/tun to open again), so a reboot that reopened them
/// would fail. The guest sees a reset link and takes a new DHCP lease from the same passt.
/// </summary>
public sealed class NicBackends : IDisposable
{
    private readonly List<INetBackend> _backends;

    private NicBackends(List<INetBackend> backends) => _backends = backends;

    public int Count => _backends.Count;

    /// <summary>The backend of NIC <paramref name="index"/>, in <see cref="Machine.MachineConfig.Nics"/> order.</summary>
    public INetBackend this[int index] => _backends[index];

    /// <summary>Opens a backend for each NIC; one that fails closes those opened before it and throws.</summary>
    public static NicBackends Open(IReadOnlyList<NicOptions> nics)
    {
        var backends = new List<INetBackend>(nics.Count);
        try
        {
            foreach (var nic in nics)
            {
                backends.Add(nic.Kind switch
                {
                    NicKind.User => PasstBackend.Start(nic.Forwards),
                    NicKind.Bridge => TapBackend.CreateOnBridge(nic.Bridge!, nic.Mac, nic.Vlan),
                    _ => TapBackend.Open(nic.Tap!),
                });
            }
        }
        catch
        {
            backends.ForEach(b => b.Dispose());
            throw;
        }

        return new NicBackends(backends);
    }

    /// <summary>Ends each passt and closes each TAP (a TAP made on a bridge goes with its descriptor).</summary>
    public void Dispose()
    {
        _backends.ForEach(b => b.Dispose());
        _backends.Clear();
    }
}
