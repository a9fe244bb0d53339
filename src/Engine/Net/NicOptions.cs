using System.Net.NetworkInformation;

namespace Platform.Engine.Net;

/// <summary>A <c>--net tap=NAME[,mac=52:54:00:xx:xx:xx]</c> argument: a virtio-net NIC on a host TAP device.</summary>
/// <remarks>
/// Without <c>mac=</c> the address is 52:54:00 (QEMU's locally administered prefix) followed by three bytes of the
/// SHA-256 of the TAP name: the same NIC keeps its MAC across reboots and VMM restarts, as a guest's network
/// configuration expects.
/// </remarks>
public sealed record NicOptions(string Tap, PhysicalAddress Mac)
{
    /// <summary>IFNAMSIZ − 1: Linux interface names are at most 15 bytes.</summary>
    public const int MaxTapNameLength = VmConfigLimits.TapNameMaxLength;

    public static NicOptions Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string? tap = null;
        PhysicalAddress? mac = null;
        foreach (string part in spec.Split(','))
        {
            if (part.StartsWith("tap=", StringComparison.Ordinal))
            {
                tap = part[4..];
            }
            else if (part.StartsWith("mac=", StringComparison.Ordinal))
            {
                mac = NicMac.Parse(part[4..]) ?? throw new FormatException(
                    $"--net {spec}: '{part[4..]}' is not a unicast MAC address (six hex bytes with ':', e.g. 52:54:00:12:34:56)");
            }
            else
            {
                throw new FormatException($"--net {spec}: unknown option '{part}' (expected tap=NAME and optionally mac=xx:xx:xx:xx:xx:xx)");
            }
        }

        if (tap is null)
        {
            throw new FormatException($"--net {spec}: tap=NAME is required (the host TAP device, e.g. --net tap=tap0)");
        }

        if (!IsValidTapName(tap))
        {
            throw new FormatException($"--net {spec}: '{tap}' is not an interface name (1 to {MaxTapNameLength} characters, no '/', ':' or spaces)");
        }

        return new NicOptions(tap, mac ?? DefaultMac(tap));
    }

    /// <summary>52:54:00 and three bytes derived from the TAP name.</summary>
    public static PhysicalAddress DefaultMac(string tap) => NicMac.Default(tap);

    /// <summary>"52:54:00:12:34:56" in the usual colon form.</summary>
    public static string FormatMac(PhysicalAddress mac) => NicMac.Format(mac);

    public static bool IsValidTapName(string name) => VmConfigLimits.IsValidTapName(name);
}
