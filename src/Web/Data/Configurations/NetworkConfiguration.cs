using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Web.Services.Networks;

namespace Platform.Web.Data.Configurations;

internal sealed class NetworkConfiguration : IEntityTypeConfiguration<Network>
{
    public void Configure(EntityTypeBuilder<Network> builder)
    {
        builder.ToTable("Networks");
        builder.HasKey(n => n.Id);
        builder.Property(n => n.Name).HasMaxLength(NetworkRules.MaxNameLength).IsRequired().UseCollation("NOCASE");
        builder.HasIndex(n => n.Name).IsUnique();
        builder.Property(n => n.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(n => n.Bridge).HasMaxLength(VmConfigLimits.TapNameMaxLength);
        builder.Property(n => n.Description).HasMaxLength(1024);
        builder.Property(n => n.Subnet).HasMaxLength(IpPrefix.MaxTextLength);
        builder.Property(n => n.Gateway).HasMaxLength(IpPrefix.MaxTextLength);
        builder.Property(n => n.CreatedAt).HasConversion(TicksConverter.Instance);
        builder.HasData(new Network
        {
            Id = Network.DefaultId, Name = Network.DefaultName, Kind = NetworkKind.Nat,
            Description = "User-mode NAT: each NIC gets DHCP, DNS and the host's outbound connections, with no host set-up.",
            CreatedAt = new DateTimeOffset(2026, 12, 5, 0, 0, 0, TimeSpan.Zero),
        });
    }
}
