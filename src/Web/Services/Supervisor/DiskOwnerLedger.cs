using System.Text.Json;
using System.Text.Json.Serialization;
using static Platform.Web.Services.Supervisor.RuntimeFolderNative;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// Gives a jailed VM's writable disks back to their owners when its VMM ends, as libvirt's DAC driver restores what it
/// chowned. The jail gives each writable disk to the VM's uid (the VMM's <c>JailDiskFiles</c>), so a reboot inside
/// the jail can open it again; without this an administrator's <c>/dev/sdb</c> or image file stayed the VM's uid's for
/// good, after the VM stopped and after it was deleted.
/// </summary>
/// <remarks>
/// <para>Before a jailed start the dashboard writes down each writable disk's owner, device and inode in
/// <c>disk-owners/{vm}.json</c> under the data folder: root's, 0600, outside the runtime folder the VM's uid owns, so a
/// VM that broke out cannot rewrite what it is given back as. A disk that already belongs to the VM's uid keeps the
/// owner recorded before (a VMM that ended while no dashboard watched), never the VM's uid.</para>
/// <para>When the VMM ends, each disk is opened by its name (followed as the VMM followed it) and given back through
/// that descriptor only if it is still the same file (device and inode), still the VM's uid's, and still a disk
/// (a regular file with one name, or a block device): a name swapped meanwhile is left alone and logged.</para>
/// <para>Each start counts a generation: the end of an older VMM (its continuation running late, after a crash restart
/// already gave the disks to the new one) gives nothing back.</para>
/// </remarks>
internal sealed partial class DiskOwnerLedger(string folder, ILogger logger)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private readonly Dictionary<Guid, long> _generations = [];
    private readonly Lock _lock = new();

    /// <summary>One disk's owner before the jail gave it away.</summary>
    internal sealed record Entry(
        [property: JsonPropertyName("path")] string Path,
        [property: JsonPropertyName("device")] ulong Device,
        [property: JsonPropertyName("inode")] ulong Inode,
        [property: JsonPropertyName("uid")] uint Uid,
        [property: JsonPropertyName("gid")] uint Gid,
        [property: JsonPropertyName("givenTo")] uint GivenTo);

    public string FileOf(Guid vmId) => System.IO.Path.Combine(folder, vmId.ToString("N") + ".json");

    /// <summary>Writes down the owners of <paramref name="writableDisks"/> before the VM's uid <paramref name="uid"/> is given them; returns this start's generation.</summary>
    public long Record(Guid vmId, IEnumerable<string> writableDisks, uint uid)
    {
        lock (_lock)
        {
            long generation = _generations[vmId] = _generations.GetValueOrDefault(vmId) + 1;
            var entries = Read(vmId).ToDictionary(e => (e.Device, e.Inode));
            foreach (string path in writableDisks.Distinct(StringComparer.Ordinal))
            {
                if (Open(path) is not { } disk)
                {
                    continue; // The VMM says why it cannot open it.
                }

                using (disk.Handle)
                {
                    if (disk.Facts.Uid != uid && IsDisk(disk.Facts))
                    {
                        entries[(disk.Facts.Device, disk.Facts.Inode)] = new Entry(path, disk.Facts.Device, disk.Facts.Inode, disk.Facts.Uid, disk.Facts.Gid, uid);
                    }
                }
            }

            if (OperatingSystem.IsLinux())
            {
                Write(vmId, [.. entries.Values]);
            }

            return generation;
        }
    }

    /// <summary>The generation of the VM's latest start in this dashboard (0 before any).</summary>
    public long Generation(Guid vmId)
    {
        lock (_lock)
        {
            return _generations.GetValueOrDefault(vmId);
        }
    }

    /// <summary>
    /// Gives the VM's disks back to the owners written down, unless a later start (a newer <paramref name="generation"/>)
    /// has them now; null gives back whatever the start was.
    /// </summary>
    public void Restore(Guid vmId, long? generation = null)
    {
        lock (_lock)
        {
            if (generation is { } g && g != _generations.GetValueOrDefault(vmId))
            {
                return;
            }

            try
            {
                foreach (var entry in Read(vmId))
                {
                    GiveBack(vmId, entry);
                }

                DeleteFile(vmId);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Called as a VMM ends, where nobody could act on an exception: the log says which VM's disks stay given.
                Log.NotRestored(logger, ex, vmId);
            }
        }
    }

    private void GiveBack(Guid vmId, Entry entry)
    {
        if (Open(entry.Path) is not { } disk)
        {
            Log.NotGivenBack(logger, entry.Path, vmId, "it cannot be opened any more");
            return;
        }

        using (disk.Handle)
        {
            var facts = disk.Facts;
            string? refusal = (facts.Device, facts.Inode) != (entry.Device, entry.Inode) ? "its name now leads to another file"
                : !IsDisk(facts) ? $"it is now {facts.Kind} with {facts.Links} names"
                : null;
            // A disk someone gave to another owner since is theirs to keep; only the VM's uid's is given back.
            if (refusal is null && facts.Uid == entry.GivenTo && Fchown((int)disk.Handle.DangerousGetHandle(), entry.Uid, entry.Gid) != 0)
            {
                refusal = $"fchown failed: {ErrorText(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}";
            }

            if (refusal is not null)
            {
                Log.NotGivenBack(logger, entry.Path, vmId, refusal);
            }
        }
    }

    private static bool IsDisk(FileFacts facts) => (facts.Type == TypeRegular && facts.Links == 1) || facts.Type == TypeBlockDevice;

    /// <summary>The disk opened by its name as the VMM opens it (links followed), with what fstat says of it; null when it cannot be.</summary>
    private static (Microsoft.Win32.SafeHandles.SafeFileHandle Handle, FileFacts Facts)? Open(string path)
    {
        int fd = OpenAt(CurrentDirectory, path, ReadOnly | NonBlocking | NoControllingTerminal | CloseOnExec, 0);
        if (fd < 0)
        {
            return null;
        }

        var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        if (Facts(fd) is not { } facts)
        {
            handle.Dispose();
            return null;
        }

        return (handle, facts);
    }

    private List<Entry> Read(Guid vmId)
    {
        try
        {
            return JsonSerializer.Deserialize<List<Entry>>(File.ReadAllBytes(FileOf(vmId)), Json) ?? [];
        }
        catch (FileNotFoundException)
        {
            return [];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
        catch (JsonException ex)
        {
            Log.Unreadable(logger, ex, FileOf(vmId));
            return [];
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private void Write(Guid vmId, List<Entry> entries)
    {
        if (entries.Count == 0)
        {
            DeleteFile(vmId);
            return;
        }

        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string temporary = FileOf(vmId) + ".new";
        File.Delete(temporary);
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            JsonSerializer.Serialize(stream, entries, Json);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, FileOf(vmId), overwrite: true);
    }

    private void DeleteFile(Guid vmId)
    {
        if (File.Exists(FileOf(vmId)))
        {
            File.Delete(FileOf(vmId));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "The disk {Path} of VM {VmId} was not given back to its owner: {Reason}.")]
        public static partial void NotGivenBack(ILogger logger, string path, Guid vmId, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "The disks of VM {VmId} could not be given back to their owners")]
        public static partial void NotRestored(ILogger logger, Exception exception, Guid vmId);

        [LoggerMessage(Level = LogLevel.Error, Message = "The disk owners file {File} cannot be read; its disks stay the VM's uid's.")]
        public static partial void Unreadable(ILogger logger, Exception exception, string file);
    }
}
