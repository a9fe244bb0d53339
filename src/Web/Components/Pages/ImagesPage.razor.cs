using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Services.Images;

namespace Platform.Web.Components.Pages;

/// <summary>The image library: upload with progress, list with checksums and users, delete when unused.</summary>
public partial class ImagesPage
{
    private IReadOnlyList<ImageUsage>? _images;

    [Inject]
    public required ImageLibrary Library { get; set; }

    [Inject]
    public required IDialogService Dialogs { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    protected override Task OnInitializedAsync() => LoadAsync();

    private async Task LoadAsync() => _images = await Library.ListAsync(CancellationToken.None);

    private async Task DeleteAsync(ImageFile image)
    {
        bool? confirmed = await Dialogs.ShowMessageBoxAsync(
            "Delete image", $"Delete {image.FileName} ({ImageLibrary.FormatSize(image.SizeBytes)}) from the library and the disk?",
            yesText: "Delete", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }

        var result = await Library.DeleteAsync(image.Id, CancellationToken.None);
        if (result.Succeeded)
        {
            Snackbar.Add($"Deleted {image.FileName}.", Severity.Success);
        }
        else
        {
            Snackbar.Add(result.Message!, Severity.Error);
        }

        await LoadAsync();
    }
}
