using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Platform.Web.Components.Vms;

/// <summary>Asks before a VM is deleted, and whether its library disk images go too. Closes with that answer.</summary>
public partial class DeleteVmDialog
{
    private bool _deleteImages;

    [CascadingParameter]
    private IMudDialogInstance Dialog { get; set; } = null!;

    [Parameter]
    public string VmName { get; set; } = "";

    [Parameter]
    public int LibraryDiskCount { get; set; }

    [Parameter]
    public int PathDiskCount { get; set; }

    private void Cancel() => Dialog.Cancel();

    /// <summary>Closes with true when the user also wants the disk images deleted.</summary>
    private void Confirm() => Dialog.Close(DialogResult.Ok(_deleteImages));
}
