using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Images;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Pages;

/// <summary>The image library: upload with progress, list with checksums and users, delete when unused.</summary>
public partial class ImagesPage
{
    private IReadOnlyList<ImageUsage>? _images;
    private HashSet<string>? _visibleNames;

    [Inject]
    public required ImageLibrary Library { get; set; }

    [Inject]
    public required IDialogService Dialogs { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required VmService Vms { get; set; }

    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    protected override Task OnInitializedAsync() => LoadAsync();

    /// <summary>The VMs using an image, as far as the user may know them (others are counted, not named).</summary>
    private string UsedBy(ImageUsage usage) => ImageResponse.From(usage, _visibleNames ?? []).DescribeUsers();

    private async Task LoadAsync()
    {
        _images = await Library.ListAsync(CancellationToken.None);
        _visibleNames = (await Vms.ListAsync(CancellationToken.None)).Where(vm => Access.CanSee(vm.Id)).Select(vm => vm.Name)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    private async Task DeleteAsync(ImageFile image)
    {
        bool? confirmed = await Dialogs.ShowMessageBoxAsync(
            "Delete image", $"Delete {image.FileName} ({ImageLibrary.FormatSize(image.SizeBytes)}) from the library and the disk?",
            yesText: "Delete", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }

        if (!await Current.CheckAsync(Privileges.ImageManage, null, AuditActions.ImageDelete, image.FileName))
        {
            Snackbar.Add("Deleting images needs Image.Manage.", Severity.Error);
            return;
        }

        // The button is off for an image in use, but the page may be older than that: the library's refusal would
        // name every VM using it, so say it here with only the VMs this user may see.
        if (await Library.FindAsync(image.Id, CancellationToken.None) is { UsedBy.Count: > 0 } usage)
        {
            await Current.AuditAsync(AuditActions.ImageDelete, AuditResult.Failed, target: image.FileName, detail: "in use");
            Snackbar.Add($"{image.FileName} is used by {UsedBy(usage)}; remove it from them first.", Severity.Error);
            await LoadAsync();
            return;
        }

        var result = await Library.DeleteAsync(image.Id, CancellationToken.None);
        await Current.AuditAsync(AuditActions.ImageDelete, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, target: image.FileName, detail: result.Message);
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
