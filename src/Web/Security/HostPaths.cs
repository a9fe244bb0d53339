using Platform.Web.Data;
using Platform.Web.Services.Networks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Security;

/// <summary>
/// Host files given to a VM by path (a kernel, an initrd, a disk) instead of from the image library. The VMM opens
/// them with the dashboard's own rights, so whoever picks the path can read, and through a writable disk change, any
/// file the dashboard can: its database, and with it every grant. That is administering the dashboard, so a path the
/// VM did not have before (or a path disk that turns writable) needs <see cref="Needed"/> on <c>/</c>, as in Proxmox
/// VE only root may give a VM a raw host path. Paths the VM had already stay through anyone's edits; library images
/// need only Image.Use. TAP devices are the same kind of thing for the network: a NIC on a TAP device the VM did not
/// have puts the VM on whatever host network that device is bridged to (someone else's, or the host's own), so a new
/// TAP name needs <see cref="Needed"/> too (everyone else picks an administered network). So does a port forward
/// that exposes the VM: from an address other than loopback, or from a host port below 1024 (the host's services').
/// </summary>
public static class HostPaths
{
    public const Privileges Needed = Privileges.UserManage;

    /// <summary>
    /// The host paths <paramref name="input"/> would give the VM that <paramref name="current"/> (null for a new VM)
    /// did not have, or had only read-only, then the TAP devices it did not have (as "TAP device NAME"); empty when it
    /// adds none. Paths are taken as <see cref="VmService"/> stores them: kernel and initrd only for a kernel boot, a
    /// disk's only without a library image, trimmed.
    /// </summary>
    public static IReadOnlyList<string> Added(VmDefinitionInput input, VirtualMachine? current)
    {
        ArgumentNullException.ThrowIfNull(input);
        var had = current is null ? [] : Of(current).ToList();
        var hadTaps = current?.Nics.Select(n => n.TapName).OfType<string>().ToHashSet(StringComparer.Ordinal) ?? [];
        var hadExposed = current?.Nics.SelectMany(n => n.PortForwards).Where(NetworkRules.Exposes).Select(NetworkRules.HostEnd).ToHashSet(StringComparer.Ordinal) ?? [];
        return Of(input)
            .Where(wanted => !had.Any(h => h.Path == wanted.Path && (h.Writable || !wanted.Writable)))
            .Select(wanted => wanted.Path)
            .Concat(input.Nics.Select(n => n.TapName?.Trim() ?? "").Where(tap => tap.Length > 0 && !hadTaps.Contains(tap)).Select(tap => $"TAP device {tap}"))
            .Concat(input.Nics.SelectMany(n => n.PortForwards).Where(NetworkRules.Exposes).Select(NetworkRules.HostEnd)
                .Where(end => !hadExposed.Contains(end)).Select(end => $"port forward from {end}"))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    private static IEnumerable<(string Path, bool Writable)> Of(VmDefinitionInput input)
    {
        if (input.BootMode == BootMode.Kernel)
        {
            foreach (string? path in new[] { input.KernelPath, input.InitrdPath })
            {
                if (Trimmed(path) is { } p)
                {
                    yield return (p, false);
                }
            }
        }

        foreach (var disk in input.Disks.Where(d => d.ImageId is null))
        {
            if (Trimmed(disk.Path) is { } p)
            {
                yield return (p, !disk.ReadOnly);
            }
        }
    }

    private static IEnumerable<(string Path, bool Writable)> Of(VirtualMachine vm)
    {
        foreach (string? path in new[] { vm.KernelPath, vm.InitrdPath })
        {
            if (Trimmed(path) is { } p)
            {
                yield return (p, false);
            }
        }

        foreach (var disk in vm.Disks.Where(d => d.ImageId is null))
        {
            if (Trimmed(disk.Path) is { } p)
            {
                yield return (p, !disk.ReadOnly);
            }
        }
    }

    private static string? Trimmed(string? path) => string.IsNullOrWhiteSpace(path) ? null : path.Trim();
}
