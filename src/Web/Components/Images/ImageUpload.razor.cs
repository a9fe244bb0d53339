using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Images;
using Platform.Web.Services;

namespace Platform.Web.Components.Images;

/// <summary>
/// Uploads one file into the image library over the circuit, streaming it into <see cref="ImageLibrary"/> (which
/// hashes and stores it as it arrives) with a progress bar and a Cancel button. Failures say why.
/// </summary>
public partial class ImageUpload : IDisposable
{
    private readonly string _inputId = $"image-upload-{Guid.NewGuid():N}";
    private ImageKind _kind = ImageKind.Disk;
    private IBrowserFile? _file;
    private CancellationTokenSource? _cancel;
    private long _uploaded;
    private string? _error;

    [Inject]
    public required ImageLibrary Library { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    /// <summary>Called with the stored image after a successful upload.</summary>
    [Parameter]
    public EventCallback<ImageFile> Uploaded { get; set; }

    private bool Uploading => _cancel is not null;

    private double Percent => _file is { Size: > 0 } file ? 100.0 * _uploaded / file.Size : 0;

    private void OnFileChosen(InputFileChangeEventArgs e)
    {
        _file = e.File;
        _error = null;
        // Guess the kind from the usual names; the user can still change it.
        string name = _file.Name.ToLowerInvariant();
        if (name.StartsWith("vmlinu", StringComparison.Ordinal) || name.StartsWith("bzimage", StringComparison.Ordinal) || name.EndsWith(".elf", StringComparison.Ordinal))
        {
            _kind = ImageKind.Kernel;
        }
        else if (name.StartsWith("initrd", StringComparison.Ordinal) || name.StartsWith("initramfs", StringComparison.Ordinal) || name.EndsWith(".cpio.gz", StringComparison.Ordinal))
        {
            _kind = ImageKind.Initrd;
        }
        else if (name.EndsWith(".iso", StringComparison.Ordinal))
        {
            _kind = ImageKind.Iso;
        }
    }

    private async Task UploadAsync()
    {
        if (_file is null)
        {
            return;
        }

        if (!await Current.CheckAsync(Privileges.ImageManage, null, AuditActions.ImageUpload, _file.Name))
        {
            _error = "Uploading images needs Image.Manage.";
            return;
        }

        _error = null;
        _uploaded = 0;
        _cancel = new CancellationTokenSource();
        int lastPercent = -1;
        var progress = new InlineProgress(bytes =>
        {
            _uploaded = bytes;
            // Re-render per whole percent, not per buffer.
            if ((int)Percent != lastPercent)
            {
                lastPercent = (int)Percent;
                _ = InvokeAsync(StateHasChanged);
            }
        });

        try
        {
            if (_file.Size > Library.MaxImageSizeBytes)
            {
                _error = $"{_file.Name} is {ImageLibrary.FormatSize(_file.Size)}; the library takes images up to {ImageLibrary.FormatSize(Library.MaxImageSizeBytes)}.";
                return;
            }

            await using var stream = _file.OpenReadStream(Library.MaxImageSizeBytes, _cancel.Token);
            var result = await Library.UploadAsync(_kind, _file.Name, stream, null, progress, _cancel.Token, (await Current.GetPrincipalAsync()).UserId());
            await Current.AuditAsync(AuditActions.ImageUpload, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed,
                target: _file.Name, detail: result.Message);
            if (result.Succeeded)
            {
                Snackbar.Add($"Uploaded {result.Value!.FileName} ({ImageLibrary.FormatSize(result.Value.SizeBytes)}).", Severity.Success);
                _file = null;
                await Uploaded.InvokeAsync(result.Value);
            }
            else
            {
                _error = result.Status == ServiceStatus.Invalid
                    ? string.Join(" ", result.Errors.SelectMany(e => e.Value))
                    : result.Message;
            }
        }
        catch (OperationCanceledException)
        {
            _error = "Upload cancelled; nothing was stored.";
        }
        catch (IOException ex)
        {
            _error = $"The upload broke off: {ex.Message}";
        }
        finally
        {
            _cancel.Dispose();
            _cancel = null;
        }
    }

    private void Cancel() => _cancel?.Cancel();

    public void Dispose()
    {
        _cancel?.Cancel();
        GC.SuppressFinalize(this);
    }

    private sealed class InlineProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
