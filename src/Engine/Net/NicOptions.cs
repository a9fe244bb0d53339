using System.Net.NetworkInformation;

namespace Platform.Engine.Net;

/// <summary>One NIC as the machine builds it: where its frames go and the MAC it has, defaults resolved.</summary>
public sealed record NicOptions(NicKind Kind, PhysicalAddress Mac)
{
    /// <summary>IFNAMSIZ − 1: Linux interface names are at most 15 bytes.</summary>
    public const int MaxTapNameLength = VmConfigLimits.TapNameMaxLength;

    /// <summary>With <see cref="NicKind.Tap"/>: the existing TAP device.</summary>
    public string? Tap { get; init; }

    /// <summary>With <see cref="NicKind.Bridge"/>: the host bridge the VMM's own TAP joins.</summary>
    public string? Bridge { get; init; }

    /// <summary>With <see cref="NicKind.Bridge"/>: the VLAN the TAP's bridge port carries untagged; null: the bridge's default.</summary>
    public int? Vlan { get; init; }

    /// <summary>With <see cref="NicKind.User"/>: host ports passt forwards to the guest.</summary>
    public IReadOnlyList<PortForwardConfig> Forwards { get; init; } = [];

    /// <summary><paramref name="nic"/>, the <paramref name="index"/>-th NIC of a validated configuration.</summary>
    public static NicOptions From(NicConfig nic, int index)
    {
        ArgumentNullException.ThrowIfNull(nic);
        return new NicOptions(nic.EffectiveKind, NicMac.Of(nic, index)) { Tap = nic.Tap, Bridge = nic.Bridge, Vlan = nic.Vlan, Forwards = nic.Forwards };
    }

    /// <summary>"52:54:00:12:34:56" in the usual colon form.</summary>
    public static string FormatMac(PhysicalAddress mac) => NicMac.Format(mac);

    public static bool IsValidTapName(string name) => VmConfigLimits.IsValidTapName(name);
}
