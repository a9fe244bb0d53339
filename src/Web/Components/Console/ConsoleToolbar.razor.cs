using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Platform.Web.Components.Console;

/// <summary>The graphical console's controls: status, Ctrl-Alt-Del, scaling, full screen, a window, and typing text as keys.</summary>
public sealed partial class ConsoleToolbar
{
    private string? _text;

    [Parameter, EditorRequired]
    public string Status { get; set; } = "";

    [Parameter]
    public bool Scaled { get; set; }

    [Parameter]
    public EventCallback<bool> ScaledChanged { get; set; }

    [Parameter]
    public EventCallback OnCtrlAltDel { get; set; }

    [Parameter]
    public EventCallback OnFullscreen { get; set; }

    /// <summary>Text from the user's clipboard to type into the guest, key by key.</summary>
    [Parameter]
    public EventCallback<string> OnType { get; set; }

    [Parameter]
    public string? WindowHref { get; set; }

    private Color StatusColor => Status == "connected" ? Color.Success : Status.StartsWith("failed", StringComparison.Ordinal) ? Color.Error : Color.Default;

    private async Task TypeAsync()
    {
        if (!string.IsNullOrEmpty(_text))
        {
            await OnType.InvokeAsync(_text);
            _text = null;
        }
    }
}
