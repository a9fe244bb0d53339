using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Web.Services.CloudInit;

namespace Platform.Web.Data.Configurations;

internal sealed class VmCloudInitConfiguration : IEntityTypeConfiguration<VmCloudInit>
{
    public void Configure(EntityTypeBuilder<VmCloudInit> builder)
    {
        builder.ToTable("VmCloudInits");
        builder.HasKey(c => c.VirtualMachineId);
        builder.Property(c => c.Hostname).HasMaxLength(CloudInitRules.MaxHostnameLength);
        builder.Property(c => c.UserName).HasMaxLength(CloudInitRules.MaxUserNameLength).IsRequired();
        builder.Property(c => c.PasswordHash).HasMaxLength(256);
        builder.Property(c => c.SshAuthorizedKeys).HasMaxLength(CloudInitRules.MaxKeysLength);
        builder.Property(c => c.Packages).HasMaxLength(CloudInitRules.MaxPackagesLength);
        builder.Property(c => c.UserData).HasMaxLength(CloudInitRules.MaxUserDataLength);
        // One JSON column, as a NIC's port forwards are: the addresses are read and written only with the settings.
        builder.OwnsMany(c => c.StaticNics, nics => nics.ToJson());
        builder.Property(c => c.UpdatedAt).HasConversion(TicksConverter.Instance);
        // The settings are the VM's own: they go with it.
        builder.HasOne<VirtualMachine>().WithOne(vm => vm.CloudInit).HasForeignKey<VmCloudInit>(c => c.VirtualMachineId).OnDelete(DeleteBehavior.Cascade);
    }
}
