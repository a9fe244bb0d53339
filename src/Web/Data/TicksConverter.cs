using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Platform.Web.Data;

/// <summary>Stores a <see cref="DateTimeOffset"/> as UTC ticks, so SQLite can compare and order it in SQL.</summary>
internal static class TicksConverter
{
    public static readonly ValueConverter<DateTimeOffset, long> Instance =
        new(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));

    public static readonly ValueConverter<DateTimeOffset?, long?> Nullable =
        new(v => v.HasValue ? v.Value.UtcTicks : null, v => v.HasValue ? new DateTimeOffset(v.Value, TimeSpan.Zero) : null);
}
