using Platform.Web.Data;
using Platform.Web.Services.Vms;

namespace Platform.Web.Security;

/// <summary>
/// Attaching a NIC to a network needs Network.Use on that network (<c>/networks/{id}</c>, or <c>/</c>): whoever may
/// change a VM may not, by that alone, put it on every network. NICs the VM had on a network already stay through
/// anyone's edits, as host paths do (<see cref="HostPaths"/>).
/// </summary>
public static class NetworkAccess
{
    /// <summary>The networks <paramref name="input"/> attaches that <paramref name="current"/> (null: a new VM) was not on and <paramref name="access"/> may not use.</summary>
    public static IReadOnlyList<Guid> Refused(VmDefinitionInput input, VirtualMachine? current, UserAccess access)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(access);
        var had = current?.Nics.Select(n => n.NetworkId).OfType<Guid>().ToHashSet() ?? [];
        return [.. input.Nics.Select(n => n.NetworkId).OfType<Guid>().Distinct().Where(id => !had.Contains(id) && !access.CanUseNetwork(id))];
    }

    /// <summary>"Attaching a NIC to default needs Network.Use on it."</summary>
    public static string Explain(IEnumerable<string> networkNames) =>
        $"Attaching a NIC to {string.Join(", ", networkNames)} needs {PrivilegeNames.Name(Privileges.NetworkUse)} on that network: ask an administrator for a grant.";
}
