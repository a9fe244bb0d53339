using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Web.Services.Vms;

namespace Platform.Web.Data.Configurations;

internal sealed class VmDiskConfiguration : IEntityTypeConfiguration<VmDisk>
{
    public void Configure(EntityTypeBuilder<VmDisk> builder)
    {
        builder.ToTable("VmDisks");
        builder.HasKey(d => d.Id);
        builder.HasIndex(d => new { d.VirtualMachineId, d.Position }).IsUnique();
        builder.Property(d => d.Path).HasMaxLength(VmDefinitionRules.MaxPathLength);
        builder.Property(d => d.Cache).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.Bus).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.FileName).HasMaxLength(128);
        builder.Property(d => d.Format).HasConversion<string>().HasMaxLength(16);
        builder.HasOne(d => d.Image).WithMany().HasForeignKey(d => d.ImageId).OnDelete(DeleteBehavior.Restrict);
    }
}
