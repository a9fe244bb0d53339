using System.Globalization;
using System.Net.NetworkInformation;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Contracts.Config;

/// <summary>A NIC's MAC address in the colon form configurations use, and the one a NIC gets when none is given.</summary>
public static class NicMac
{
    /// <summary>
    /// 52:54:00 (QEMU's locally administered prefix) and three bytes of the SHA-256 of <paramref name="key"/> (a TAP's
    /// name): the same NIC keeps its MAC across reboots and VMM restarts, as a guest's network configuration expects.
    /// </summary>
    public static PhysicalAddress Default(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        return new PhysicalAddress([0x52, 0x54, 0x00, hash[0], hash[1], hash[2]]);
    }

    /// <summary>Six hex bytes with ':'; null unless it is a unicast address other than all zeros.</summary>
    public static PhysicalAddress? Parse(string? text)
    {
        string[] parts = (text ?? "").Split(':');
        if (parts.Length != 6)
        {
            return null;
        }

        byte[] bytes = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            if (parts[i].Length != 2 || !byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
            {
                return null;
            }
        }

        // A multicast bit or an all-zero address cannot be a NIC's own address.
        return (bytes[0] & 1) != 0 || bytes.All(b => b == 0) ? null : new PhysicalAddress(bytes);
    }

    /// <summary>"52:54:00:12:34:56".</summary>
    public static string Format(PhysicalAddress mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        return string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// The address a NIC ends up with: its own, or the default derived from what it attaches to — the TAP's name, the
    /// bridge and the NIC's place, or for a user-mode NIC its place (each has a NAT of its own, so VMs may share it).
    /// </summary>
    public static PhysicalAddress Of(NicConfig nic, int index)
    {
        ArgumentNullException.ThrowIfNull(nic);
        if (nic.Mac is not null)
        {
            return Parse(nic.Mac) ?? throw new FormatException($"'{nic.Mac}' is not a unicast MAC address");
        }

        return Default(nic.EffectiveKind switch
        {
            NicKind.Tap => nic.Tap ?? "",
            NicKind.Bridge => $"{nic.Bridge}/{index}",
            _ => $"user/{index}",
        });
    }
}
