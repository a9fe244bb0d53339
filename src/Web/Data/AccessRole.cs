using Platform.Web.Security;

namespace Platform.Web.Data;

/// <summary>A named set of privileges; granted to users and groups on <c>/</c> or one VM.</summary>
public sealed class AccessRole
{
    public Guid Id { get; set; } = Guid.NewGuid();

    /// <summary>Unique without regard to case.</summary>
    public required string Name { get; set; }

    public string? Description { get; set; }

    public Privileges Privileges { get; set; }

    /// <summary>Administrator, VMAdmin, VMUser, Auditor, NoAccess: seeded, never edited or deleted.</summary>
    public bool BuiltIn { get; set; }
}

/// <summary>Users who are granted roles together.</summary>
public sealed class AccessGroup
{
    public Guid Id { get; set; } = Guid.NewGuid();

    /// <summary>Unique without regard to case.</summary>
    public required string Name { get; set; }

    public string? Description { get; set; }

    public List<AccessGroupMember> Members { get; set; } = [];
}

public sealed class AccessGroupMember
{
    public Guid GroupId { get; set; }

    public required string UserId { get; set; }
}

/// <summary>
/// A role given to one user or one group (exactly one of <see cref="UserId"/> and <see cref="GroupId"/>) on
/// <c>/</c> (<see cref="VmId"/> null) or on one VM. The most specific grant wins: a VM's grants replace those on
/// <c>/</c> for that VM, and at the same place a user's own grants replace their groups'.
/// </summary>
public sealed class AccessGrant
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public string? UserId { get; set; }

    public Guid? GroupId { get; set; }

    /// <summary>Null: on <c>/</c> (or on a network). A grant on a VM goes when the VM is deleted.</summary>
    public Guid? VmId { get; set; }

    /// <summary>On one network (<see cref="VmId"/> then null). A grant on a network goes when the network is deleted.</summary>
    public Guid? NetworkId { get; set; }

    public Guid RoleId { get; set; }

    public AccessRole? Role { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Where the grant applies, as Proxmox writes it: <c>/</c>, <c>/vms/{id}</c> or <c>/networks/{id}</c>.</summary>
    public string Path => VmId is { } id ? $"/vms/{id}" : NetworkId is { } network ? $"/networks/{network}" : "/";
}
