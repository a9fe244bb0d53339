using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
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
        // Silo names are host names; 256 as the task log's host.
        builder.Property(vm => vm.HostName).HasMaxLength(256);
        // "cdrom,disk", as platform-vmm's --boot-order writes it: one short column, read and written whole.
        builder.Property(vm => vm.BootOrder).HasConversion(BootOrderConverter, BootOrderComparer).HasMaxLength(64);

        // An image in use cannot be deleted: the library checks first and says which VM; the database backs it up.
        builder.HasOne(vm => vm.KernelImage).WithMany().HasForeignKey(vm => vm.KernelImageId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(vm => vm.InitrdImage).WithMany().HasForeignKey(vm => vm.InitrdImageId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(vm => vm.CdromImage).WithMany().HasForeignKey(vm => vm.CdromImageId).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(vm => vm.Disks).WithOne().HasForeignKey(d => d.VirtualMachineId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(vm => vm.Nics).WithOne().HasForeignKey(n => n.VirtualMachineId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(vm => vm.Disks).AutoInclude();
        builder.Navigation(vm => vm.Nics).AutoInclude();
        builder.Navigation(vm => vm.CloudInit).AutoInclude();
        builder.HasIndex(vm => vm.TemplateId);
    }

    private static readonly ValueConverter<List<BootDevice>?, string> BootOrderConverter = new(
        order => string.Join(",", order!.Select(device => VmConfigNames.Of(device))),
        text => text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(name => ParseBootDevice(name)).ToList());

    private static readonly ValueComparer<List<BootDevice>?> BootOrderComparer = new(
        (a, b) => a == null ? b == null : b != null && a.SequenceEqual(b),
        order => order == null ? 0 : order.Aggregate(0, (hash, device) => HashCode.Combine(hash, device)),
        order => order == null ? null : order.ToList());

    private static BootDevice ParseBootDevice(string name) =>
        VmConfigNames.Parse<BootDevice>(name) ?? throw new InvalidOperationException($"The stored boot order names {name}, which is no boot device.");
}
