using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>
/// Names for the ids an audit entry holds ("role 0000… to user 4546…" reads "role VMUser to user alice"), for the audit
/// page; the entries themselves and the API keep the ids. A VM's name is given only for VMs the reader may see.
/// </summary>
public sealed partial class AuditNames(IReadOnlyDictionary<Guid, string> names)
{
    public static readonly AuditNames None = new(new Dictionary<Guid, string>());

    public static async Task<AuditNames> LoadAsync(PlatformDbContext db, UserAccess reader, CancellationToken cancellationToken)
    {
        var names = new Dictionary<Guid, string>();
        foreach (var user in await db.Users.Select(u => new { u.Id, u.UserName }).ToListAsync(cancellationToken))
        {
            if (Guid.TryParse(user.Id, out var id) && user.UserName is { } name)
            {
                names[id] = name;
            }
        }

        foreach (var role in await db.AccessRoles.Select(r => new { r.Id, r.Name }).ToListAsync(cancellationToken))
        {
            names[role.Id] = role.Name;
        }

        foreach (var group in await db.AccessGroups.Select(g => new { g.Id, g.Name }).ToListAsync(cancellationToken))
        {
            names[group.Id] = group.Name;
        }

        foreach (var network in await db.Networks.Select(n => new { n.Id, n.Name }).ToListAsync(cancellationToken))
        {
            names[network.Id] = network.Name;
        }

        foreach (var vm in await db.VirtualMachines.Select(v => new { v.Id, v.Name }).ToListAsync(cancellationToken))
        {
            if (reader.CanSee(vm.Id))
            {
                names[vm.Id] = vm.Name;
            }
        }

        return new AuditNames(names);
    }

    /// <summary>The name of <paramref name="id"/>, or null when it has none (deleted since, or hidden from the reader).</summary>
    public string? NameOf(Guid id) => names.GetValueOrDefault(id);

    /// <summary><paramref name="text"/> with each id that has a name replaced by it; ids without one stay.</summary>
    public string? Describe(string? text) => text is null ? null : Ids().Replace(text, m =>
        Guid.TryParse(m.Value, out var id) && names.TryGetValue(id, out string? name) ? name : m.Value);

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex Ids();
}
