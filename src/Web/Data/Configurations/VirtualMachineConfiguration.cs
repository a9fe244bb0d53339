using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Platform.Web.Data.Configurations;

internal sealed class VirtualMachineConfiguration : IEntityTypeConfiguration<VirtualMachine>
{
    public void Configure(EntityTypeBuilder<VirtualMachine> builder)
    {
        builder.ToTable("VirtualMachines");
        builder.HasKey(vm => vm.Id);
        builder.Property(vm => vm.Name).HasMaxLength(63).IsRequired();
        builder.HasIndex(vm => vm.Name).IsUnique();
        builder.Property(vm => vm.Description).HasMaxLength(1024);
        builder.Property(vm => vm.KernelPath).HasMaxLength(4096);
        builder.Property(vm => vm.InitrdPath).HasMaxLength(4096);
        builder.Property(vm => vm.CommandLine).HasMaxLength(4096);
        builder.Property(vm => vm.ConcurrencyStamp).IsConcurrencyToken();
        // SQLite cannot order by DateTimeOffset; store it as ticks-preserving text is EF's default — keep UTC.
    }
}
