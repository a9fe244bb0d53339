using Microsoft.AspNetCore.Components;
using Platform.Web.Data;

namespace Platform.Web.Components.Vms;

/// <summary>
/// Picks a file for a VM — a kernel, an initrd, a disk — either from the image library or as a path on the host,
/// and keeps exactly one of <see cref="ImageId"/> and <see cref="Path"/> set (both empty when it is optional and
/// the user chose none).
/// </summary>
public partial class ImageOrPath
{
    private ImageSource _source;
    private bool _initialized;

    public enum ImageSource
    {
        None,
        Library,
        Path,
    }

    [Parameter, EditorRequired]
    public string Label { get; set; } = "";

    [Parameter]
    public ImageKind Kind { get; set; }

    [Parameter]
    public IReadOnlyList<ImageFile> Images { get; set; } = [];

    [Parameter]
    public bool Optional { get; set; }

    [Parameter]
    public Guid? ImageId { get; set; }

    [Parameter]
    public EventCallback<Guid?> ImageIdChanged { get; set; }

    [Parameter]
    public string? Path { get; set; }

    [Parameter]
    public EventCallback<string?> PathChanged { get; set; }

    /// <summary>After any change, so the parent can validate again.</summary>
    [Parameter]
    public EventCallback Changed { get; set; }

    [Parameter]
    public string? Error { get; set; }

    [Parameter]
    public string TestId { get; set; } = "image-or-path";

    private List<ImageFile> Matching => Images.Where(i => i.Kind == Kind).ToList();

    protected override void OnParametersSet()
    {
        if (_initialized)
        {
            return;
        }

        // The first render picks the source from what is stored; afterwards only the user changes it.
        _initialized = true;
        _source = ImageId is not null ? ImageSource.Library
            : !string.IsNullOrEmpty(Path) ? ImageSource.Path
            : Optional ? ImageSource.None
            : Matching.Count > 0 ? ImageSource.Library : ImageSource.Path;
    }

    private string NameOf(Guid? id) => Images.FirstOrDefault(i => i.Id == id)?.FileName ?? "";

    private async Task SetSourceAsync(ImageSource source)
    {
        _source = source;
        if (source != ImageSource.Library && ImageId is not null)
        {
            await ImageIdChanged.InvokeAsync(null);
        }

        if (source != ImageSource.Path && Path is not null)
        {
            await PathChanged.InvokeAsync(null);
        }

        await Changed.InvokeAsync();
    }

    private async Task SetImageAsync(Guid? id)
    {
        await ImageIdChanged.InvokeAsync(id);
        await Changed.InvokeAsync();
    }

    private async Task SetPathAsync(string? path)
    {
        await PathChanged.InvokeAsync(path);
        await Changed.InvokeAsync();
    }
}
