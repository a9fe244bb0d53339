using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace Platform.Web.Components.Layout;

public partial class MainLayout
{
    /// <summary>The browser's localStorage key that remembers the reader's choice of dark or light mode.</summary>
    public const string DarkModeKey = "platform.darkMode";

    /// <summary>Below this screen size the drawer is a sheet over the page, closed until the menu button opens it.</summary>
    private const Breakpoint DrawerBreakpoint = Breakpoint.Md;

    private MudThemeProvider? _themeProvider;
    private bool _isDarkMode;

    // The drawer's open state as this layout hands it to MudDrawer. It starts open, the desktop default the prerendered
    // page shows; on a small screen MudDrawer's CSS hides it until its first breakpoint notification, a few JS round
    // trips after the circuit starts, closes it (reported through OpenChanged). Until then this field says open while
    // the phone shows closed, so a tap in that moment must not simply flip it (issue 16: the first tap did nothing).
    private bool _drawerOpen = true;

    // Whether the drawer has made that first decision for this screen, so a tap can flip _drawerOpen as shown.
    private bool _drawerDecided;

    // A tap on a small screen before the drawer's decision: what the reader asked for, applied after the decision.
    private bool _openWhenDecided;

    // The decision closed the drawer while a tap asked for it open: open it once the closed state has reached MudDrawer
    // (handing it "open" again in the same render would match the last value it was given, and change nothing).
    private bool _openAfterRender;

    [Inject]
    public required IJSRuntime JS { get; set; }

    [Inject]
    public required IBrowserViewportService Viewport { get; set; }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (_openAfterRender)
        {
            _openAfterRender = false;
            _drawerOpen = true;
            StateHasChanged();
        }

        if (!firstRender || _themeProvider is null)
        {
            return;
        }

        // The reader's own choice, remembered in this browser; else the system's preference.
        string? chosen = await JS.InvokeAsync<string?>("localStorage.getItem", DarkModeKey);
        bool dark = chosen is "dark" or "light" ? chosen == "dark" : await _themeProvider.GetSystemDarkModeAsync();
        // Light is what the page was prerendered in: re-render the layout (and every component under it that takes
        // child content) only when the reader's choice differs, not in the busiest moment of every page's start.
        if (dark != _isDarkMode)
        {
            _isDarkMode = dark;
            StateHasChanged();
        }
    }

    private async Task ToggleDrawer()
    {
        if (!_drawerDecided)
        {
            if (await Viewport.GetCurrentBreakpointAsync() >= DrawerBreakpoint)
            {
                // A wide screen shows the drawer as _drawerOpen says, and the drawer's first decision leaves it so.
                _drawerDecided = true;
            }
            else if (!_drawerDecided) // (It may have decided while the breakpoint was asked.)
            {
                // Shown closed, about to be closed by the drawer: keep the tap for after that.
                _openWhenDecided = !_openWhenDecided;
                return;
            }
        }

        _drawerOpen = !_drawerOpen;
    }

    private void OnDrawerOpenChanged(bool open)
    {
        _drawerOpen = open;
        if (!_drawerDecided)
        {
            // On a small screen the drawer's first word is always "closed" (it is handed "open" until then).
            _drawerDecided = true;
            _openAfterRender = _openWhenDecided && !open;
            _openWhenDecided = false;
        }
    }

    private async Task ToggleDarkMode()
    {
        _isDarkMode = !_isDarkMode;
        await JS.InvokeVoidAsync("localStorage.setItem", DarkModeKey, _isDarkMode ? "dark" : "light");
    }
}
