using System.Collections.Concurrent;
using Platform.Web.Extensions;

namespace Platform.Web.Services.History;

/// <summary>
/// Every history file under <c>{DataDirectory}/history</c>: <c>host.rrd</c> and <c>vms/{vm id}.rrd</c>, opened on first
/// use and kept open. Reading a VM that has no file yet answers empty points and makes no file.
/// </summary>
public sealed class HistoryStore : IDisposable
{
    private readonly string _vmsFolder;
    private readonly string _hostPath;
    private readonly ConcurrentDictionary<Guid, HistoryFile> _vms = new();
    private readonly Lock _openLock = new();
    private HistoryFile? _host;
    private bool _disposed;

    public HistoryStore(PlatformOptions options)
        : this(Path.Combine(options.DataDirectory, "history"))
    {
    }

    public HistoryStore(string folder)
    {
        Folder = folder;
        _vmsFolder = Path.Combine(folder, "vms");
        _hostPath = Path.Combine(folder, "host.rrd");
    }

    public string Folder { get; }

    /// <summary>The bytes one VM's history takes on disk once its year ring is full; it never grows past that.</summary>
    public static long BytesPerVm => HistoryFile.SizeFor(HistorySeriesSets.Vm.Count);

    public void RecordVm(Guid vmId, DateTimeOffset at, ReadOnlySpan<double> values) => VmFile(vmId, create: true)!.Record(at, values);

    public void RecordHost(DateTimeOffset at, ReadOnlySpan<double> values) => HostFile().Record(at, values);

    public HistoryData ReadVm(Guid vmId, HistoryRange range, DateTimeOffset now) =>
        VmFile(vmId, create: false)?.Read(range, now, HistorySeriesSets.Vm) ?? PointLayout.Empty(range, now, HistorySeriesSets.Vm);

    public HistoryData ReadHost(HistoryRange range, DateTimeOffset now) => HostFile().Read(range, now, HistorySeriesSets.Host);

    /// <summary>fsyncs every file written since the last flush.</summary>
    public void FlushAll()
    {
        foreach (var file in _vms.Values)
        {
            file.Flush();
        }

        _host?.Flush();
    }

    /// <summary>Forgets a deleted VM's history: closes and deletes its file.</summary>
    public void DeleteVm(Guid vmId)
    {
        lock (_openLock)
        {
            if (_vms.TryRemove(vmId, out var file))
            {
                file.Dispose();
            }

            try
            {
                File.Delete(VmPath(vmId));
            }
            catch (DirectoryNotFoundException)
            {
                // No history was ever written (the folder is made on the first sample): nothing to forget.
            }
        }
    }

    public void Dispose()
    {
        lock (_openLock)
        {
            _disposed = true;
            foreach (var file in _vms.Values)
            {
                file.Dispose();
            }

            _vms.Clear();
            _host?.Dispose();
        }
    }

    private string VmPath(Guid vmId) => Path.Combine(_vmsFolder, vmId.ToString("D") + ".rrd");

    private HistoryFile? VmFile(Guid vmId, bool create)
    {
        if (_vms.TryGetValue(vmId, out var file))
        {
            return file;
        }

        lock (_openLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_vms.TryGetValue(vmId, out file))
            {
                return file;
            }

            string path = VmPath(vmId);
            if (!create && !File.Exists(path))
            {
                return null;
            }

            CreateFolder(_vmsFolder);
            file = HistoryFile.Open(path, HistorySeriesSets.Vm.Count);
            _vms[vmId] = file;
            return file;
        }
    }

    private HistoryFile HostFile()
    {
        if (Volatile.Read(ref _host) is { } host)
        {
            return host;
        }

        lock (_openLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_host is null)
            {
                CreateFolder(Folder);
                _host = HistoryFile.Open(_hostPath, HistorySeriesSets.Host.Count);
            }

            return _host;
        }
    }

    /// <summary>Owner-only, as the rest of the data folder (<see cref="DataFolderPermissions"/>).</summary>
    private static void CreateFolder(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            Directory.CreateDirectory(path, DataFolderPermissions.Folder);
        }
        else
        {
            Directory.CreateDirectory(path);
        }
    }
}
