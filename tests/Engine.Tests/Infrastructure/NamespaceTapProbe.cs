using System.Runtime.InteropServices;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>
/// A TAP port of a bridge inside a <see cref="NetworkNamespace"/> that the test itself reads and writes, so it can put
/// frames on the bridge that the namespace's own stack cannot make (this host's kernel has no 8021q for VLAN
/// interfaces) and see exactly what arrives. The TAP is opened from a thread that joined the namespace (setns), since
/// TUNSETIFF finds interfaces by name in the caller's namespace; the descriptor then works from any thread.
/// </summary>
internal sealed partial class NamespaceTapProbe : IDisposable
{
    private const int CloneNewNet = 0x40000000;
    public const int HeaderSize = 12;

    private readonly TapDevice _tap;

    private NamespaceTapProbe(TapDevice tap) => _tap = tap;

    /// <summary>Adds TAP <paramref name="name"/> to <paramref name="bridge"/> in <paramref name="ns"/>, up, and opens it.</summary>
    public static NamespaceTapProbe Attach(NetworkNamespace ns, string name, string bridge)
    {
        ns.Run("ip", "tuntap", "add", "dev", name, "mode", "tap", "vnet_hdr");
        ns.Run("ip", "link", "set", name, "master", bridge, "up");
        TapDevice? tap = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var netns = File.OpenHandle($"/run/netns/{ns.Name}");
                if (SetNs((int)netns.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new IOException($"setns into {ns.Name} failed: errno {Marshal.GetLastPInvokeError()}");
                }

                tap = TapDevice.Open(name, TunIoctls.IffTap | TunIoctls.IffNoPi | TunIoctls.IffVnetHdr, HeaderSize);
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        }) { Name = "netns-probe" };
        thread.Start();
        thread.Join();
        return tap is not null ? new NamespaceTapProbe(tap) : throw new InvalidOperationException("Could not open the probe TAP", failure);
    }

    /// <summary>Puts one Ethernet frame (without the virtio header, which this adds zeroed) on the bridge.</summary>
    public void Send(ReadOnlySpan<byte> ethernetFrame)
    {
        byte[] frame = new byte[HeaderSize + ethernetFrame.Length];
        ethernetFrame.CopyTo(frame.AsSpan(HeaderSize));
        _tap.Write(frame).Should().Be(frame.Length, "the probe TAP takes the frame");
    }

    /// <summary>The first Ethernet frame (virtio header dropped) that <paramref name="wanted"/> accepts within <paramref name="timeout"/>, or null.</summary>
    public async Task<byte[]?> ReceiveAsync(Func<byte[], bool> wanted, TimeSpan timeout)
    {
        var buffer = new byte[HeaderSize + 65550];
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            int read = _tap.Read(buffer);
            if (read > HeaderSize)
            {
                byte[] frame = buffer[HeaderSize..read];
                if (wanted(frame))
                {
                    return frame;
                }
            }
            else
            {
                await Task.Delay(10);
            }
        }

        return null;
    }

    public void Dispose() => _tap.Dispose();

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
