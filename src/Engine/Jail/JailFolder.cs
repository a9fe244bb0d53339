using System.Globalization;
using System.Runtime.InteropServices;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Jail;

/// <summary>
/// The jail's root folders (<c>RUNTIME/.jail-KEEPERPID</c>) made and removed in the runtime folder, which the VM's uid
/// owns: a VMM a guest took over may have left a link or a file under such a name, pointing anywhere on the host. So
/// every step goes through a descriptor of the runtime folder opened with O_NOFOLLOW (its own name lies in the
/// dashboard's root-owned runtime root), with mkdirat and unlinkat: a planted entry is removed itself — never what it
/// names — and said in vmm.log. The runtime folder is given to the VM's uid with fchown on that descriptor.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class JailFolder
{
    private const uint OwnerOnly = 0x1C0; // 0700

    /// <summary>Makes <paramref name="root"/> a new, empty folder of root's, whatever had its name before.</summary>
    public static void CreateRoot(string root, TextWriter log)
    {
        using var folder = OpenParent(root) ?? throw new JailException($"The jail cannot open the folder of {root}: errno {Marshal.GetLastPInvokeError()}.");
        string name = Path.GetFileName(root);
        if (LibcNative.MkdirAt(folder.Fd, name, OwnerOnly) == 0)
        {
            return;
        }

        if (Marshal.GetLastPInvokeError() != LibcNative.EEXIST)
        {
            throw new JailException($"The jail cannot make its root folder {root}: errno {Marshal.GetLastPInvokeError()}.");
        }

        Remove(folder.Fd, root, name, log);
        if (LibcNative.MkdirAt(folder.Fd, name, OwnerOnly) != 0)
        {
            throw new JailException($"The jail cannot make its root folder {root} (something else holds the name): errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>Removes the empty folder <paramref name="root"/>; an entry that is not a folder is removed itself and said.</summary>
    public static void RemoveRoot(string root, TextWriter log)
    {
        using var folder = OpenParent(root);
        if (folder is not null)
        {
            Remove(folder.Fd, root, Path.GetFileName(root), log);
        }
    }

    /// <summary>Removes the root folders of keepers that are gone (a killed keeper never removed its own).</summary>
    public static void RemoveStaleRoots(string runtimeDirectory, TextWriter log)
    {
        using var folder = Open(runtimeDirectory);
        if (folder is null)
        {
            return;
        }

        // The names are listed through the descriptor: /proc/self/fd/N is this folder whatever its path now names.
        foreach (string entry in Directory.EnumerateFileSystemEntries($"/proc/self/fd/{folder.Fd}", JailKeeper.RootPrefix + "*"))
        {
            string name = Path.GetFileName(entry);
            if (int.TryParse(name[JailKeeper.RootPrefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && !Directory.Exists($"/proc/{pid}"))
            {
                Remove(folder.Fd, Path.Combine(runtimeDirectory, name), name, log);
            }
        }
    }

    /// <summary>Gives the runtime folder to the VM's uid, owner-only, through a descriptor (fchown, never chown by path).</summary>
    public static void Give(string runtimeDirectory, uint uid, uint gid)
    {
        using var folder = Open(runtimeDirectory) ?? throw new JailException($"The jail cannot open the runtime folder {runtimeDirectory}: errno {Marshal.GetLastPInvokeError()}.");
        if (LibcNative.Fchmod(folder.Fd, OwnerOnly) != 0 || LibcNative.Fchown(folder.Fd, uid, gid) != 0)
        {
            throw new JailException($"The jail failed giving {runtimeDirectory} to uid {uid}: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    private static void Remove(int folder, string path, string name, TextWriter log)
    {
        if (LibcNative.UnlinkAt(folder, name, LibcNative.AtRemoveDir) == 0 || Marshal.GetLastPInvokeError() != LibcNative.ENOTDIR)
        {
            return; // Removed, gone already, or still a mount point or not empty (a later start takes it).
        }

        // Not a folder: a link or a file the VM left under a jail root's name. The entry goes, never what it names.
        log.WriteLine($"platform-vmm: refused {path}: it is not a jail root folder but a link or file (the jailed VM may have planted it); the entry itself is removed");
        log.Flush();
        _ = LibcNative.UnlinkAt(folder, name, 0);
    }

    private static Descriptor? OpenParent(string path) => Open(Path.GetDirectoryName(path)!);

    private static Descriptor? Open(string folder)
    {
        int fd = LibcNative.OpenRaw(folder, LibcNative.ODirectory | LibcNative.ONoFollow | LibcNative.OCloexec);
        return fd < 0 ? null : new Descriptor(fd);
    }

    private sealed class Descriptor(int fd) : IDisposable
    {
        public int Fd { get; } = fd;

        public void Dispose() => LibcNative.Close(Fd);
    }
}
