using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Platform.Web.Components.Vms;

/// <summary>What the user chose in <see cref="DeleteVmDialog"/>.</summary>
public sealed record DeleteVmAnswer(bool DeleteImages, bool KeepOwnDisks);

/// <summary>Asks before a VM is deleted, and whether its library disk images go too. Closes with that answer.</summary>
public partial class DeleteVmDialog
{
    private bool _deleteImages;
    private bool _keepOwnDisks;

    [CascadingParameter]
    private IMudDialogInstance Dialog { get; set; } = null!;

    [Parameter]
    public string VmName { get; set; } = "";

    [Parameter]
    public int LibraryDiskCount { get; set; }

    [Parameter]
    public int PathDiskCount { get; set; }

    [Parameter]
    public int OwnDiskCount { get; set; }

    private void Cancel() => Dialog.Cancel();

    /// <summary>Closes with the answer: whether the library disk images go too, and whether the VM's own disks stay.</summary>
    private void Confirm() => Dialog.Close(DialogResult.Ok(new DeleteVmAnswer(_deleteImages, _keepOwnDisks)));
}
