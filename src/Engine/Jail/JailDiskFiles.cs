using System.Globalization;
using System.Runtime.InteropServices;
using Platform.Engine.Kvm.Interop;
using Platform.Engine.Machine;

namespace Platform.Engine.Jail;

/// <summary>
/// Gives the VM's uid its writable disks, so a reboot inside the jail opens them again — through descriptors, never
/// by name twice. Each disk is opened once (its name followed as the disk backend followed it: a
/// <c>/dev/disk/by-id</c> link is a fine way to name a block device), and the file behind the descriptor must be
/// what a disk can be and what the VMM already holds open:
/// <list type="bullet">
/// <item>a regular file with one name, or a block device: a file with a second name (a hard link) could be a system
/// file's other name, and a FIFO, socket or character device is no disk;</item>
/// <item>the same file (device and inode) as one the VMM opened for the first boot: a name swapped since (by whoever
/// can write its folder) is refused rather than handed over.</item>
/// </list>
/// Then fchown on that descriptor, and the jail binds <c>/proc/self/fd/N</c> (<see cref="SourceFor"/>), so the file
/// given, the file checked and the file in the jail are one file whatever the names do meanwhile. libvirt's DAC driver
/// chowns the path; this closes the gap between its check and its use.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class JailDiskFiles : IDisposable
{
    private readonly Dictionary<string, int> _byPath = new(StringComparer.Ordinal);
    private readonly List<int> _descriptors = [];

    private JailDiskFiles()
    {
    }

    /// <summary>Checks and gives every writable disk of <paramref name="config"/> to <paramref name="uid"/>; throws <see cref="JailException"/> naming the disk.</summary>
    public static JailDiskFiles Give(MachineConfig config, uint uid, uint gid)
    {
        var given = new JailDiskFiles();
        try
        {
            var held = HeldFiles();
            foreach (string path in config.Disks.Where(d => !d.ReadOnly).Select(d => Path.GetFullPath(d.Path)).Distinct(StringComparer.Ordinal))
            {
                given.GiveOne(path, held, uid, gid);
            }

            return given;
        }
        catch
        {
            given.Dispose();
            throw;
        }
    }

    /// <summary>What the jail binds for <paramref name="path"/>: the given disk's descriptor, or the name itself for anything else.</summary>
    public string SourceFor(string path) =>
        _byPath.TryGetValue(path, out int fd) ? string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fd}") : path;

    private void GiveOne(string path, List<FileIdentity> held, uint uid, uint gid)
    {
        int fd = LibcNative.OpenRaw(path, LibcNative.OCloexec | LibcNative.ONonBlock | LibcNative.ONoCtty);
        if (fd < 0)
        {
            throw new JailException($"The jail cannot open the disk {path} to give it to uid {uid}: errno {Marshal.GetLastPInvokeError()}.");
        }

        _descriptors.Add(fd);
        var file = LibcNative.FstatIdentity(fd) ?? throw new JailException($"The jail cannot stat the disk {path}: errno {Marshal.GetLastPInvokeError()}.");
        if (!file.IsRegularFile && !file.IsBlockDevice)
        {
            throw new JailException($"The disk {path} is neither a regular file nor a block device; the jail does not give it to the VM.");
        }

        if (file.IsRegularFile && file.Links != 1)
        {
            throw new JailException($"The disk {path} has {file.Links} names (hard links); one of them could be another file's, so the jail does not give it to the VM. Copy it to a file of its own.");
        }

        if (!held.Any(h => h.SameFileAs(file)))
        {
            throw new JailException($"The disk {path} is not the file the VMM opened for it (its name was changed since); the jail does not give it to the VM.");
        }

        if (LibcNative.Fchown(fd, uid, gid) != 0)
        {
            throw new JailException($"The jail failed giving the disk {path} to uid {uid}: errno {Marshal.GetLastPInvokeError()}.");
        }

        _byPath[path] = fd;
        // A disk named through a link is also held open under its real name, which the jail mounts too (JailMount):
        // that mount is bound from the same descriptor.
        if (new FileInfo($"/proc/self/fd/{fd}").LinkTarget is { } target && target != path)
        {
            _byPath.TryAdd(target, fd);
        }
    }

    /// <summary>The files this process holds open (before the jail: its disks among them), by what each descriptor names.</summary>
    private static List<FileIdentity> HeldFiles()
    {
        var held = new List<FileIdentity>();
        foreach (string link in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            // stat on /proc/self/fd/N follows the descriptor itself, not a name: a file renamed or unlinked still matches.
            if (LibcNative.StatIdentity(link) is { } file && (file.IsRegularFile || file.IsBlockDevice))
            {
                held.Add(file);
            }
        }

        return held;
    }

    public void Dispose()
    {
        foreach (int fd in _descriptors)
        {
            LibcNative.Close(fd);
        }

        _descriptors.Clear();
        _byPath.Clear();
    }
}
