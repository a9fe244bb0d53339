using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Web.Security;

namespace Platform.Web.Data.Configurations;

internal sealed class PlatformUserConfiguration : IEntityTypeConfiguration<PlatformUser>
{
    public void Configure(EntityTypeBuilder<PlatformUser> builder)
    {
        // Identity's own mapping comes from IdentityUserContext; only what we add is configured here.
        builder.Property(u => u.CreatedAt).HasConversion(TicksConverter.Instance);
    }
}

internal sealed class AccessRoleConfiguration : IEntityTypeConfiguration<AccessRole>
{
    public const int MaxNameLength = 64;

    public void Configure(EntityTypeBuilder<AccessRole> builder)
    {
        builder.ToTable("AccessRoles");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Name).HasMaxLength(MaxNameLength).UseCollation("NOCASE").IsRequired();
        builder.HasIndex(r => r.Name).IsUnique();
        builder.Property(r => r.Description).HasMaxLength(256);
        builder.HasData(BuiltInRoles.All.Select(r => new AccessRole
        {
            Id = r.Id, Name = r.Name, Privileges = r.Privileges, Description = r.Description, BuiltIn = true,
        }));
    }
}

internal sealed class AccessGroupConfiguration : IEntityTypeConfiguration<AccessGroup>
{
    public void Configure(EntityTypeBuilder<AccessGroup> builder)
    {
        builder.ToTable("AccessGroups");
        builder.HasKey(g => g.Id);
        builder.Property(g => g.Name).HasMaxLength(AccessRoleConfiguration.MaxNameLength).UseCollation("NOCASE").IsRequired();
        builder.HasIndex(g => g.Name).IsUnique();
        builder.Property(g => g.Description).HasMaxLength(256);
        builder.HasMany(g => g.Members).WithOne().HasForeignKey(m => m.GroupId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AccessGroupMemberConfiguration : IEntityTypeConfiguration<AccessGroupMember>
{
    public void Configure(EntityTypeBuilder<AccessGroupMember> builder)
    {
        builder.ToTable("AccessGroupMembers");
        builder.HasKey(m => new { m.GroupId, m.UserId });
        builder.HasOne<PlatformUser>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(m => m.UserId);
    }
}

internal sealed class AccessGrantConfiguration : IEntityTypeConfiguration<AccessGrant>
{
    public void Configure(EntityTypeBuilder<AccessGrant> builder)
    {
        builder.ToTable("AccessGrants", t =>
        {
            t.HasCheckConstraint("CK_AccessGrants_OneSubject", "(\"UserId\" IS NULL) <> (\"GroupId\" IS NULL)");
            t.HasCheckConstraint("CK_AccessGrants_OnePlace", "\"VmId\" IS NULL OR \"NetworkId\" IS NULL");
        });
        builder.HasKey(g => g.Id);
        builder.Ignore(g => g.Path);
        builder.Property(g => g.CreatedAt).HasConversion(TicksConverter.Instance);
        // Deleting a user, a group or a VM deletes its grants; a role in use cannot be deleted.
        builder.HasOne<PlatformUser>().WithMany().HasForeignKey(g => g.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<AccessGroup>().WithMany().HasForeignKey(g => g.GroupId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<VirtualMachine>().WithMany().HasForeignKey(g => g.VmId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Network>().WithMany().HasForeignKey(g => g.NetworkId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(g => g.Role).WithMany().HasForeignKey(g => g.RoleId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(g => g.UserId);
        builder.HasIndex(g => g.GroupId);
        builder.HasIndex(g => g.VmId);
        builder.HasIndex(g => g.NetworkId);
    }
}

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.ToTable("ApiTokens");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Name).HasMaxLength(AccessRoleConfiguration.MaxNameLength).IsRequired();
        builder.Property(t => t.Hash).HasMaxLength(64).IsRequired();
        builder.HasIndex(t => t.Hash).IsUnique();
        builder.Property(t => t.Prefix).HasMaxLength(16).IsRequired();
        builder.Property(t => t.CreatedAt).HasConversion(TicksConverter.Instance);
        builder.Property(t => t.ExpiresAt).HasConversion(TicksConverter.Nullable);
        builder.Property(t => t.LastUsedAt).HasConversion(TicksConverter.Nullable);
        builder.Property(t => t.RevokedAt).HasConversion(TicksConverter.Nullable);
        builder.HasOne<PlatformUser>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(t => t.UserId);
    }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("AuditLog");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedOnAdd();
        // Ticks, so the log can be filtered by time in SQL (SQLite cannot compare DateTimeOffset text).
        builder.Property(e => e.At).HasConversion(TicksConverter.Instance);
        builder.HasIndex(e => e.At);
        // No foreign keys: the log outlives the users and VMs it names.
        builder.Property(e => e.UserId).HasMaxLength(64);
        builder.Property(e => e.UserName).HasMaxLength(256);
        builder.HasIndex(e => e.UserName);
        builder.Property(e => e.RemoteAddress).HasMaxLength(64);
        builder.Property(e => e.Action).HasMaxLength(64).IsRequired();
        builder.HasIndex(e => e.Action);
        builder.HasIndex(e => e.VmId);
        builder.Property(e => e.Target).HasMaxLength(256);
        builder.Property(e => e.Result).HasConversion<string>().HasMaxLength(16);
        builder.Property(e => e.Detail).HasMaxLength(1024);
    }
}
