using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Web.Services.Vms;

namespace Platform.Web.Data.Configurations;

internal sealed class VmNicConfiguration : IEntityTypeConfiguration<VmNic>
{
    public void Configure(EntityTypeBuilder<VmNic> builder)
    {
        builder.ToTable("VmNics");
        builder.HasKey(n => n.Id);
        builder.HasIndex(n => new { n.VirtualMachineId, n.Position }).IsUnique();
        builder.Property(n => n.TapName).HasMaxLength(VmDefinitionRules.MaxTapNameLength);
        // A network in use cannot be deleted: NetworkService refuses with the VMs that use it.
        builder.HasOne(n => n.Network).WithMany().HasForeignKey(n => n.NetworkId).OnDelete(DeleteBehavior.Restrict);
        builder.Navigation(n => n.Network).AutoInclude();
        builder.OwnsMany(n => n.PortForwards, forwards =>
        {
            forwards.ToJson();
            forwards.Property(f => f.Protocol).HasConversion<string>();
        });
        builder.Property(n => n.MacAddress).HasMaxLength(17).IsRequired();
        // Not unique in the database: VmService refuses duplicates with a message, and a unique index would
        // reject two NICs of one VM swapping addresses in a single save (SQLite checks each row as it goes).
        builder.HasIndex(n => n.MacAddress);
    }
}
