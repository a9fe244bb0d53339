namespace Platform.Web.Services.Networks;

/// <summary>One NIC of a running VM and the addresses its guest has sent from, as the VMM's query-stats reports them.</summary>
public sealed record GuestNic(int Position, string Name, string Mac, IReadOnlyList<string> Addresses);

/// <summary>Reads the NICs and their guest addresses out of a VMM's counters (<c>net0</c>, <c>net1</c>… in PCI order).</summary>
public static class GuestAddresses
{
    public static IReadOnlyList<GuestNic> Of(VmmStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        return [.. stats.Devices.Where(d => d.Kind == "virtio-net" && d.Name.StartsWith("net", StringComparison.Ordinal))
            .Select(d => new GuestNic(int.TryParse(d.Name.AsSpan(3), System.Globalization.CultureInfo.InvariantCulture, out int n) ? n : 0, d.Name, d.Mac ?? "", d.Addresses ?? []))
            .OrderBy(n => n.Position)];
    }

    /// <summary>"10.0.2.15, 2001:db8::15" for a list or a tooltip; null when the guest has sent from none yet.</summary>
    public static string? Summary(VmmStats? stats)
    {
        var addresses = stats is null ? [] : Of(stats).SelectMany(n => n.Addresses).ToList();
        return addresses.Count == 0 ? null : string.Join(", ", addresses);
    }
}
