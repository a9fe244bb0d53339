namespace Platform.Web.Services.Vms;

/// <summary>
/// The boot orders a firmware VM can have, for the wizard's and the Hardware tab's pickers: every order of the devices it
/// has (its disks, its CD-ROM drive), each as a key like vm.json writes it (<c>cdrom,disk</c>), with words for people.
/// </summary>
public static class BootOrders
{
    /// <summary>The orders to offer: both devices either way round, then each alone (only devices the VM has).</summary>
    public static IReadOnlyList<IReadOnlyList<BootDevice>> For(bool hasDisks, bool hasCdrom) => (hasDisks, hasCdrom) switch
    {
        (true, true) => [[BootDevice.Disk, BootDevice.Cdrom], [BootDevice.Cdrom, BootDevice.Disk], [BootDevice.Disk], [BootDevice.Cdrom]],
        (true, false) => [[BootDevice.Disk]],
        (false, true) => [[BootDevice.Cdrom]],
        _ => [],
    };

    /// <summary>What the VMM does when no order is given: the disks, then the CD-ROM.</summary>
    public static IReadOnlyList<BootDevice> Default { get; } = [BootDevice.Disk, BootDevice.Cdrom];

    /// <summary>"cdrom,disk", as platform-vmm's <c>--boot-order</c> and the database write it.</summary>
    public static string Key(IReadOnlyList<BootDevice> order) => string.Join(',', order.Select(VmConfigNames.Of));

    /// <summary>The order <paramref name="key"/> names; null for an unknown device name.</summary>
    public static List<BootDevice>? Parse(string? key)
    {
        var order = new List<BootDevice>();
        foreach (string name in (key ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (VmConfigNames.Parse<BootDevice>(name) is not { } device)
            {
                return null;
            }

            order.Add(device);
        }

        return order;
    }

    /// <summary>"CD-ROM, then disk"; null means the default.</summary>
    public static string Describe(IReadOnlyList<BootDevice>? order) =>
        string.Join(", then ", (order ?? Default).Select(d => d == BootDevice.Cdrom ? "CD-ROM" : "disk"));

    /// <summary>
    /// <paramref name="order"/> less the devices the VM no longer has: a drive or the last disk removed on the Hardware tab
    /// takes its place in the boot order with it, instead of leaving an order the VMM would refuse. Null stays null, and an
    /// order left empty becomes null (the default, which skips what is missing).
    /// </summary>
    public static List<BootDevice>? Without(IReadOnlyList<BootDevice>? order, bool hasDisks, bool hasCdrom)
    {
        if (order is null)
        {
            return null;
        }

        var kept = order.Where(d => d == BootDevice.Disk ? hasDisks : hasCdrom).ToList();
        return kept.Count == 0 ? null : kept;
    }
}
