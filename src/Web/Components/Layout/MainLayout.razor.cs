using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace Platform.Web.Components.Layout;

public partial class MainLayout
{
    /// <summary>The browser's localStorage key that remembers the reader's choice of dark or light mode.</summary>
    public const string DarkModeKey = "platform.darkMode";

    private MudThemeProvider? _themeProvider;
    private bool _drawerOpen = true;
    private bool _isDarkMode;

    [Inject]
    public required IJSRuntime JS { get; set; }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender || _themeProvider is null)
        {
            return;
        }

        // The reader's own choice, remembered in this browser; else the system's preference.
        string? chosen = await JS.InvokeAsync<string?>("localStorage.getItem", DarkModeKey);
        _isDarkMode = chosen is "dark" or "light" ? chosen == "dark" : await _themeProvider.GetSystemDarkModeAsync();
        StateHasChanged();
    }

    private void ToggleDrawer() => _drawerOpen = !_drawerOpen;

    private async Task ToggleDarkMode()
    {
        _isDarkMode = !_isDarkMode;
        await JS.InvokeVoidAsync("localStorage.setItem", DarkModeKey, _isDarkMode ? "dark" : "light");
    }
}
