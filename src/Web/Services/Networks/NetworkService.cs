using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.Web.Services.Networks;

/// <summary>A network and the VMs whose NICs join it.</summary>
public sealed record NetworkUsage(Network Network, IReadOnlyList<string> UsedBy);

/// <summary>
/// The administered networks: the seeded <c>default</c> NAT network and the bridges an administrator adds (picked from
/// the host's existing bridges). A network in use cannot be deleted, nor can <c>default</c>.
/// </summary>
public sealed class NetworkService(IDbContextFactory<PlatformDbContext> dbFactory, IHostBridges bridges, IAuditLog audit)
{
    public async Task<IReadOnlyList<Network>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Networks.AsNoTracking().OrderBy(n => n.Name).ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<NetworkUsage>> ListWithUsageAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var networks = await db.Networks.AsNoTracking().OrderBy(n => n.Name).ToListAsync(cancellationToken);
        var uses = await db.VmNics.AsNoTracking().Where(n => n.NetworkId != null)
            .Join(db.VirtualMachines.IgnoreAutoIncludes(), n => n.VirtualMachineId, vm => vm.Id, (n, vm) => new { n.NetworkId, vm.Name })
            .ToListAsync(cancellationToken);
        return [.. networks.Select(n => new NetworkUsage(n,
            [.. uses.Where(u => u.NetworkId == n.Id).Select(u => u.Name).Distinct().Order(StringComparer.OrdinalIgnoreCase)]))];
    }

    public async Task<Network?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Networks.AsNoTracking().FirstOrDefaultAsync(n => n.Id == id, cancellationToken);
    }

    /// <summary>
    /// Adds a bridge network on one of the host's existing bridges (NAT needs no second network: each NIC has its own),
    /// optionally on one 802.1Q VLAN of it (the VMM tags and filters its NICs' frames).
    /// </summary>
    /// <param name="subnet">The bridge's subnet if known (<c>192.168.10.0/24</c>), which cloud-init's static addresses are checked against.</param>
    /// <param name="gateway">The subnet's router, if known.</param>
    public async Task<ServiceResult<Network>> CreateBridgeAsync(AuditActor actor, string name, string bridge, int? vlan, string? description,
        CancellationToken cancellationToken, string? subnet = null, string? gateway = null)
    {
        var errors = new Dictionary<string, string[]>();
        foreach (var (field, problem) in NetworkRules.CheckSubnet(subnet, gateway))
        {
            errors[field] = [problem];
        }

        if (NetworkRules.CheckName(name) is { } nameProblem)
        {
            errors["name"] = [nameProblem];
        }

        if (!bridges.List().Contains(bridge, StringComparer.Ordinal))
        {
            errors["bridge"] = [$"The host has no bridge named {bridge}; pick one of: {string.Join(", ", bridges.List().DefaultIfEmpty("(none)"))}."];
        }

        if (vlan is < VmConfigLimits.MinVlan or > VmConfigLimits.MaxVlan)
        {
            errors["vlan"] = [$"A VLAN tag is a number from {VmConfigLimits.MinVlan} to {VmConfigLimits.MaxVlan}; leave it empty for the bridge's untagged traffic."];
        }

        if (description is { Length: > 1024 })
        {
            errors["description"] = ["A description has at most 1024 characters."];
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (errors.Count == 0 && await db.Networks.AnyAsync(n => n.Name == name, cancellationToken))
        {
            errors["name"] = [$"There is a network called {name} already."];
        }

        if (errors.Count > 0)
        {
            await audit.AddAsync(actor, AuditActions.NetworkCreate, AuditResult.Failed, target: name, detail: string.Join(" ", errors.Values.SelectMany(e => e)));
            return ServiceResult<Network>.Invalid(errors);
        }

        var network = new Network
        {
            Name = name, Kind = NetworkKind.Bridge, Bridge = bridge, Vlan = vlan, Description = description,
            Subnet = IpPrefix.TryParse(subnet, out var prefix) ? prefix.ToString() : null,
            Gateway = IpPrefix.TryParseAddress(gateway, out var router) ? router.ToString() : null,
        };
        db.Networks.Add(network);
        await db.SaveChangesAsync(cancellationToken);
        await audit.AddAsync(actor, AuditActions.NetworkCreate, AuditResult.Succeeded, target: name, detail: network.Describe());
        return ServiceResult<Network>.Ok(network);
    }

    public async Task<ServiceResult> DeleteAsync(AuditActor actor, Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var network = await db.Networks.FirstOrDefaultAsync(n => n.Id == id, cancellationToken);
        if (network is null)
        {
            return ServiceResult.Fail(ServiceStatus.NotFound, "There is no such network.");
        }

        string? refusal = null;
        if (network.Id == Network.DefaultId)
        {
            refusal = "The default network stays: new VMs get it.";
        }
        else
        {
            var users = await db.VmNics.Where(n => n.NetworkId == id)
                .Join(db.VirtualMachines.IgnoreAutoIncludes(), n => n.VirtualMachineId, vm => vm.Id, (n, vm) => vm.Name)
                .Distinct().ToListAsync(cancellationToken);
            if (users.Count > 0)
            {
                refusal = $"{string.Join(", ", users)} {(users.Count == 1 ? "has a NIC" : "have NICs")} on {network.Name}: move or remove them first.";
            }
        }

        if (refusal is not null)
        {
            await audit.AddAsync(actor, AuditActions.NetworkDelete, AuditResult.Failed, target: network.Name, detail: refusal);
            return ServiceResult.Fail(ServiceStatus.Conflict, refusal);
        }

        db.Networks.Remove(network);
        await db.SaveChangesAsync(cancellationToken);
        await audit.AddAsync(actor, AuditActions.NetworkDelete, AuditResult.Succeeded, target: network.Name);
        return ServiceResult.Ok();
    }
}
