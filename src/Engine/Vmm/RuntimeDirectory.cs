using Platform.Engine.Control;

namespace Platform.Engine.Vmm;

/// <summary>
/// The VM's runtime folder (owner-only): the pid file, control.sock, serial.sock and (with a display) vnc.sock, which the control plane finds
/// again after its own restart. The pid file is removed when the VMM ends normally; a stale one (and stale sockets)
/// after a kill is what tells the control plane that the VMM is gone.
/// </summary>
internal sealed class RuntimeDirectory : IDisposable
{
    private readonly string _pidFile;
    private bool _published;

    private RuntimeDirectory(string path)
    {
        Path = path;
        _pidFile = System.IO.Path.Combine(path, ControlProtocol.PidFileName);
    }

    public string Path { get; }

    public string ControlSocket => System.IO.Path.Combine(Path, ControlProtocol.ControlSocketName);

    public string SerialSocket => System.IO.Path.Combine(Path, ControlProtocol.SerialSocketName);

    public string VncSocket => System.IO.Path.Combine(Path, ControlProtocol.VncSocketName);

    public static RuntimeDirectory Create(string path)
    {
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new RuntimeDirectory(path);
    }

    /// <summary>Writes the pid file; call it after the sockets are bound, which fails if another VMM owns the folder.</summary>
    public void PublishPid()
    {
        // Written whole under a temporary name, so a reader never sees a half-written pid.
        string temporary = _pidFile + ".tmp";
        File.WriteAllText(temporary, Jail.JailState.HostProcessId + "\n");
        File.Move(temporary, _pidFile, overwrite: true);
        _published = true;
    }

    /// <summary>Removes the pid file if this VMM wrote it (a VMM refused the folder must not remove the owner's).</summary>
    public void Dispose()
    {
        if (_published)
        {
            File.Delete(_pidFile);
        }
    }
}
