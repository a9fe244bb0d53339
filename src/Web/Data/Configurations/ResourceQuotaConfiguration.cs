using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Platform.Web.Data.Configurations;

internal sealed class ResourceQuotaConfiguration : IEntityTypeConfiguration<ResourceQuota>
{
    public void Configure(EntityTypeBuilder<ResourceQuota> builder)
    {
        builder.ToTable("ResourceQuotas", t => t.HasCheckConstraint("CK_ResourceQuotas_OneHolder", "(\"UserId\" IS NULL) <> (\"GroupId\" IS NULL)"));
        builder.HasKey(q => q.Id);
        builder.Property(q => q.UserId).HasMaxLength(450);
        // One quota per user and per group: setting it again replaces it.
        builder.HasIndex(q => q.UserId).IsUnique().HasFilter("\"UserId\" IS NOT NULL");
        builder.HasIndex(q => q.GroupId).IsUnique().HasFilter("\"GroupId\" IS NOT NULL");
        builder.HasOne<PlatformUser>().WithMany().HasForeignKey(q => q.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<AccessGroup>().WithMany().HasForeignKey(q => q.GroupId).OnDelete(DeleteBehavior.Cascade);
    }
}
