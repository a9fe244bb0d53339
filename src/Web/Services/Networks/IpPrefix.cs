using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Platform.Web.Services.Networks;

/// <summary>
/// An address with a prefix length as an interface has it (<c>192.168.10.20/24</c>, <c>2001:db8::20/64</c>): unlike
/// <see cref="IPNetwork"/>, the host bits may be set. Gives the subnet it lies in and that subnet's network and
/// broadcast addresses, which no host may take.
/// </summary>
public readonly record struct IpPrefix(IPAddress Address, int Length)
{
    /// <summary>The longest text one can be (a full IPv6 address, '/', 3 digits), for column sizes.</summary>
    public const int MaxTextLength = 64;

    public bool IsIPv4 => Address.AddressFamily == AddressFamily.InterNetwork;

    public int MaxLength => IsIPv4 ? 32 : 128;

    /// <summary>The subnet: the address with its host bits cleared.</summary>
    public IPNetwork Subnet => new(Masked(Address, Length, hostBits: false), Length);

    /// <summary>The subnet's last address (IPv4's broadcast address).</summary>
    public IPAddress Broadcast => Masked(Address, Length, hostBits: true);

    public bool Contains(IPAddress address) => Subnet.Contains(address);

    /// <summary>Whether this address is the subnet's network or (IPv4) broadcast address, which no NIC may use; /31 and /32 have neither.</summary>
    public bool IsNetworkOrBroadcast => IsIPv4 && Length <= 30 && (Address.Equals(Subnet.BaseAddress) || Address.Equals(Broadcast));

    public override string ToString() => $"{Address}/{Length.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses <c>address/length</c>, the length within the family's bits; leading or trailing spaces are ignored.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out IpPrefix prefix)
    {
        prefix = default;
        string[] parts = (text ?? "").Trim().Split('/');
        if (parts.Length != 2 || !TryParseAddress(parts[0], out var address)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int length))
        {
            return false;
        }

        prefix = new IpPrefix(address, length);
        return length >= 1 && length <= prefix.MaxLength;
    }

    /// <summary>
    /// An IPv4 address as four dotted decimals or an IPv6 address without a zone. <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>
    /// alone also takes inet_aton's shorthands ("10.1" is 10.0.0.1), which a guest's netplan would not.
    /// </summary>
    public static bool TryParseAddress([NotNullWhen(true)] string? text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text) || text.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(text, out var parsed))
        {
            return false;
        }

        bool fourDecimals = text.Split('.') is { Length: 4 } octets && octets.All(o => o.Length is > 0 and <= 3 && o.All(char.IsAsciiDigit));
        if (parsed.AddressFamily == AddressFamily.InterNetwork ? !fourDecimals : parsed.AddressFamily != AddressFamily.InterNetworkV6 || parsed.IsIPv4MappedToIPv6)
        {
            return false;
        }

        address = parsed;
        return true;
    }

    private static IPAddress Masked(IPAddress address, int length, bool hostBits)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int bit = length; bit < bytes.Length * 8; bit++)
        {
            byte mask = (byte)(0x80 >> (bit % 8));
            bytes[bit / 8] = hostBits ? (byte)(bytes[bit / 8] | mask) : (byte)(bytes[bit / 8] & ~mask);
        }

        return new IPAddress(bytes);
    }
}
