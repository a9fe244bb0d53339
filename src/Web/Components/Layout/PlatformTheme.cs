using MudBlazor;

namespace Platform.Web.Components.Layout;

internal static class PlatformTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f6feb",
            AppbarBackground = "#1f2937",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#58a6ff",
        },
    };
}
