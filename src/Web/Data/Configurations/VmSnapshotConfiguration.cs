using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Web.Services.Disks;

namespace Platform.Web.Data.Configurations;

internal sealed class VmSnapshotConfiguration : IEntityTypeConfiguration<VmSnapshot>
{
    public void Configure(EntityTypeBuilder<VmSnapshot> builder)
    {
        builder.ToTable("VmSnapshots");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Name).HasMaxLength(SnapshotNameRules.MaxLength).IsRequired();
        builder.HasIndex(s => new { s.VirtualMachineId, s.Name }).IsUnique();
        builder.Property(s => s.CreatedAt).HasConversion(TicksConverter.Instance);
        builder.Property(s => s.CreatedBy).HasMaxLength(256);
        // The snapshots live in the VM's disks, so their rows go with the VM.
        builder.HasOne<VirtualMachine>().WithMany().HasForeignKey(s => s.VirtualMachineId).OnDelete(DeleteBehavior.Cascade);
    }
}
