using Microsoft.Win32.SafeHandles;

namespace Platform.Engine.Control;

/// <summary>
/// The descriptors that came with one command line (SCM_RIGHTS), as QEMU's monitor receives a <c>getfd</c>'s. The command
/// takes the one it uses (<see cref="TakeSingle"/>); whatever is left when the line has been answered is closed, so a
/// descriptor sent with a command that takes none, or with one that is refused, does not stay open in the VMM.
/// </summary>
internal sealed class PassedDescriptors : IDisposable
{
    private readonly List<SafeFileHandle> _files = [];

    public int Count => _files.Count;

    public void Add(SafeFileHandle file) => _files.Add(file);

    /// <summary>Moves <paramref name="other"/>'s descriptors here (two reads whose descriptors name the same line).</summary>
    public void TakeAll(PassedDescriptors other)
    {
        _files.AddRange(other._files);
        other._files.Clear();
    }

    /// <summary>The one descriptor, now the caller's; null unless exactly one came.</summary>
    public SafeFileHandle? TakeSingle()
    {
        if (_files.Count != 1)
        {
            return null;
        }

        var file = _files[0];
        _files.Clear();
        return file;
    }

    /// <summary>Closes every descriptor not taken.</summary>
    public void Dispose()
    {
        foreach (var file in _files)
        {
            file.Dispose();
        }

        _files.Clear();
    }
}
