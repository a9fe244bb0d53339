namespace Platform.Engine.Vmm;

/// <summary>
/// The VM's runtime folder: a pid file now; control.sock and serial.sock join it with the control socket.
/// Removed again when the VMM ends normally.
/// </summary>
internal sealed class RuntimeDirectory : IDisposable
{
    private readonly string _pidFile;

    private RuntimeDirectory(string path)
    {
        Path = path;
        _pidFile = System.IO.Path.Combine(path, "vmm.pid");
    }

    public string Path { get; }

    public static RuntimeDirectory Create(string path)
    {
        Directory.CreateDirectory(path);
        var dir = new RuntimeDirectory(path);
        File.WriteAllText(dir._pidFile, Environment.ProcessId + "\n");
        return dir;
    }

    public void Dispose() => File.Delete(_pidFile);
}
