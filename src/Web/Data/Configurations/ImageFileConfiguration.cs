using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Web.Services.Images;

namespace Platform.Web.Data.Configurations;

internal sealed class ImageFileConfiguration : IEntityTypeConfiguration<ImageFile>
{
    public void Configure(EntityTypeBuilder<ImageFile> builder)
    {
        builder.ToTable("Images");
        builder.HasKey(i => i.Id);
        builder.Property(i => i.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(i => i.FileName).HasMaxLength(ImageFileNameRules.MaxLength).UseCollation("NOCASE").IsRequired();
        builder.HasIndex(i => i.FileName).IsUnique();
        builder.Property(i => i.Sha256).HasMaxLength(64).IsFixedLength().IsRequired();
        builder.Property(i => i.Format).HasConversion<string>().HasMaxLength(16);
        builder.Property(i => i.VolumeLabel).HasMaxLength(32);
    }
}
