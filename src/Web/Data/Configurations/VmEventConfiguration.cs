using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Web.Services.Vms;

namespace Platform.Web.Data.Configurations;

internal sealed class VmEventConfiguration : IEntityTypeConfiguration<VmEvent>
{
    public void Configure(EntityTypeBuilder<VmEvent> builder)
    {
        builder.ToTable("VmEvents");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedOnAdd();
        // No foreign key to the VM: the log outlives the VMs it talks about.
        builder.HasIndex(e => e.VmId);
        builder.Property(e => e.VmName).HasMaxLength(VmNameRules.MaxLength);
        builder.Property(e => e.Kind).HasMaxLength(64).IsRequired();
        builder.Property(e => e.Message).HasMaxLength(4096).IsRequired();
        builder.Property(e => e.Result).HasConversion<string>().HasMaxLength(16);
    }
}
