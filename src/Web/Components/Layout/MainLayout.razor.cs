using MudBlazor;

namespace Platform.Web.Components.Layout;

public partial class MainLayout
{
    private MudThemeProvider? _themeProvider;
    private bool _drawerOpen = true;
    private bool _isDarkMode;
    private bool _followSystem = true;

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && _themeProvider is not null && _followSystem)
        {
            // Start in the reader's system preference; the toggle overrides it for this circuit.
            _isDarkMode = await _themeProvider.GetSystemDarkModeAsync();
            StateHasChanged();
        }
    }

    private void ToggleDrawer() => _drawerOpen = !_drawerOpen;

    private void ToggleDarkMode()
    {
        _followSystem = false;
        _isDarkMode = !_isDarkMode;
    }
}
