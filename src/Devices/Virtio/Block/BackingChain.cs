using Microsoft.Win32.SafeHandles;
using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Devices.Virtio.Block;

/// <summary>
/// Opens the backing files of an image chain, read-only and with a shared lock (so a VM writing one of them keeps it
/// from being used as a base, and the reverse). A relative name resolves against the folder of the image that names
/// it, as QEMU does; the chain is at most <see cref="MaxDepth"/> backing files deep and may not come back to an image
/// already in it.
/// </summary>
/// <remarks>
/// The backing file's format comes from the image's backing format extension; when the extension is absent the file
/// is probed (qcow2 by its magic, else raw), as QEMU does for old images. Protocol names (<c>json:</c>, <c>nbd://</c>…)
/// are refused: only files are backing files here.
/// </remarks>
internal sealed class BackingChain
{
    public const int MaxDepth = 16;

    private readonly IReadOnlyList<string> _images;
    private readonly string _current;

    public BackingChain(string topImage)
        : this([Canonical(topImage)], topImage)
    {
    }

    private BackingChain(IReadOnlyList<string> images, string current)
    {
        _images = images;
        _current = current;
    }

    /// <summary>Opens the backing file <paramref name="name"/> of the current image, and its own chain.</summary>
    public IBlockBackend OpenBacking(string name, string? formatName)
    {
        if (_images.Count > MaxDepth)
        {
            throw new DiskImageException($"{_current}: the backing chain is more than {MaxDepth} images deep; flatten it with qemu-img convert.");
        }

        if (name.StartsWith("json:", StringComparison.Ordinal) || name.Contains("://", StringComparison.Ordinal))
        {
            throw new DiskImageException($"{_current}: the backing file '{name}' is not a file name (protocols are not supported).");
        }

        DiskImageFormat? format = null;
        if (formatName is not null)
        {
            format = DiskImageProbe.Parse(formatName)
                ?? throw new DiskImageException($"{_current}: the backing file's format is '{formatName}'; only raw and qcow2 backing files are supported.");
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(_current)) ?? "/";
        string path = Path.IsPathRooted(name) ? name : Path.Combine(folder, name);
        string canonical = Canonical(path);
        if (_images.Contains(canonical))
        {
            throw new DiskImageException($"{_current}: the backing chain loops: {string.Join(" -> ", _images)} -> {canonical}.");
        }

        SafeFileHandle handle;
        try
        {
            handle = Storage.KeptFiles.OpenRead(path, FileShare.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DiskImageException($"{_current}: cannot open its backing file {path}: {ex.Message}", ex);
        }

        try
        {
            var actual = format ?? DiskImageProbe.Detect(handle);
            if (actual == DiskImageFormat.Qcow2)
            {
                return Qcow2BlockBackend.Open(handle, path, new Qcow2OpenOptions { ReadOnly = true }, new BackingChain([.. _images, canonical], path));
            }

            return new RawFileBlockBackend(handle, readOnly: true) { Path = path };
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The file a path ends at, symbolic links followed, so a loop through a link is still a loop.</summary>
    private static string Canonical(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return File.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException)
        {
            return full; // a link cycle: opening it fails with its own message
        }
    }
}
