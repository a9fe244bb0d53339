using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Web.Services.Vms;

namespace Platform.Web.Data.Configurations;

internal sealed class VirtualMachineConfiguration : IEntityTypeConfiguration<VirtualMachine>
{
    public void Configure(EntityTypeBuilder<VirtualMachine> builder)
    {
        builder.ToTable("VirtualMachines");
        builder.HasKey(vm => vm.Id);
        // NOCASE makes both the unique index and every comparison on the name case-insensitive (ASCII, which is
        // all VmNameRules allows), so "Web" and "web" cannot both exist even when two saves race.
        builder.Property(vm => vm.Name).HasMaxLength(VmNameRules.MaxLength).UseCollation("NOCASE").IsRequired();
        builder.HasIndex(vm => vm.Name).IsUnique();
        builder.Property(vm => vm.Description).HasMaxLength(VmDefinitionRules.MaxDescriptionLength);
        builder.Property(vm => vm.BootMode).HasConversion<string>().HasMaxLength(16);
        builder.Property(vm => vm.KernelPath).HasMaxLength(VmDefinitionRules.MaxPathLength);
        builder.Property(vm => vm.InitrdPath).HasMaxLength(VmDefinitionRules.MaxPathLength);
        builder.Property(vm => vm.CommandLine).HasMaxLength(VmDefinitionRules.MaxCommandLineLength);
        builder.Property(vm => vm.OnReboot).HasConversion<string>().HasMaxLength(16);
        builder.Property(vm => vm.Input).HasConversion<string>().HasMaxLength(16);
        builder.Property(vm => vm.OnCrash).HasConversion<string>().HasMaxLength(16);
        builder.Property(vm => vm.ConcurrencyStamp).IsConcurrencyToken();

        // An image in use cannot be deleted: the library checks first and says which VM; the database backs it up.
        builder.HasOne(vm => vm.KernelImage).WithMany().HasForeignKey(vm => vm.KernelImageId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(vm => vm.InitrdImage).WithMany().HasForeignKey(vm => vm.InitrdImageId).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(vm => vm.Disks).WithOne().HasForeignKey(d => d.VirtualMachineId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(vm => vm.Nics).WithOne().HasForeignKey(n => n.VirtualMachineId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(vm => vm.Disks).AutoInclude();
        builder.Navigation(vm => vm.Nics).AutoInclude();
        builder.Navigation(vm => vm.CloudInit).AutoInclude();
        builder.HasIndex(vm => vm.TemplateId);
    }
}
