using System.Globalization;
using Microsoft.AspNetCore.Components;
using Platform.Web.Services.Images;

namespace Platform.Web.Components.Admin;

/// <summary>Use against a quota as the Host page and the quota page show it: "14 GiB of 16 GiB", "3 (no limit)", " · full".</summary>
public static class QuotaDisplay
{
    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string MiB(long n) => ImageLibrary.FormatSize(n << 20);

    public static string Bytes(long n) => ImageLibrary.FormatSize(n);

    /// <summary>"14 of 16", or the use alone where there is no maximum; a full quota is marked.</summary>
    public static RenderFragment Use(long used, long? max, Func<long, string> format) => builder =>
    {
        builder.AddContent(0, max is { } m ? $"{format(used)} of {format(m)}" : $"{format(used)} (no limit)");
        if (max is { } limit && used >= limit)
        {
            builder.OpenElement(1, "span");
            builder.AddAttribute(2, "class", "mud-error-text");
            builder.AddContent(3, " · full");
            builder.CloseElement();
        }
    };
}
