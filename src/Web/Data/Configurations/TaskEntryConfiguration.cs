using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Web.Services.Tasks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Data.Configurations;

internal sealed class TaskEntryConfiguration : IEntityTypeConfiguration<TaskEntry>
{
    public void Configure(EntityTypeBuilder<TaskEntry> builder)
    {
        builder.ToTable("Tasks");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).ValueGeneratedOnAdd();
        // No foreign key to the VM: the log outlives the VMs it talks about.
        builder.HasIndex(t => t.VmId);
        builder.Property(t => t.Action).HasMaxLength(64).IsRequired();
        builder.Property(t => t.VmName).HasMaxLength(VmNameRules.MaxLength);
        builder.Property(t => t.Target).HasMaxLength(256);
        builder.Property(t => t.UserName).HasMaxLength(256);
        builder.Property(t => t.Host).HasMaxLength(256);
        // Ticks, so retention and "since" compare in SQL.
        builder.Property(t => t.StartedAt).HasConversion(TicksConverter.Instance);
        builder.HasIndex(t => t.StartedAt);
        builder.Property(t => t.EndedAt).HasConversion(TicksConverter.Nullable);
        builder.Property(t => t.Status).HasConversion<string>().HasMaxLength(16);
        builder.HasIndex(t => t.Status);
        builder.Property(t => t.Result).HasMaxLength(TaskLines.MaxLineLength);
        builder.Property(t => t.Log).HasMaxLength(TaskLines.MaxLogLength).IsRequired();
    }
}
