using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Platform.Web.Components.Vms;

/// <summary>Asks before a power action that loses the guest's work (Stop, Reset); closes with "don't ask again".</summary>
public partial class ConfirmPowerDialog
{
    private bool _dontAskAgain;

    [CascadingParameter]
    private IMudDialogInstance Dialog { get; set; } = null!;

    [Parameter]
    public string Verb { get; set; } = "";

    [Parameter]
    public string Question { get; set; } = "";

    private void Cancel() => Dialog.Cancel();

    /// <summary>Closes with true when the user wants no more questions for this action in this session.</summary>
    private void Confirm() => Dialog.Close(DialogResult.Ok(_dontAskAgain));
}
