using System.Globalization;
using Platform.Engine.Kvm.Interop;
using Platform.Engine.Machine;

namespace Platform.Engine.Jail;

/// <summary>One thing bind-mounted into the jail's root at the path it has on the host.</summary>
/// <param name="Device">A device node (/dev/kvm…): mounted without nodev.</param>
/// <param name="Executable">Mounted without noexec, so native libraries in it can be mapped executable (a JIT build's
/// runtime folder). Nothing can be exec'd from it all the same: the filter kills execve.</param>
internal sealed record JailMount(string Path, bool Writable, bool Directory = false, bool Device = false, bool Executable = false)
{
    /// <summary>
    /// What a VM needs in its jail: its runtime folder, the files its configuration names (kernel, initrd, firmware,
    /// disks), every regular file the VMM holds open once the first boot is built (qcow2 backing files, an ISO), and
    /// the devices: /dev/kvm, /dev/net/tun with a TAP or bridge NIC, /dev/null, /dev/zero, /dev/urandom.
    /// Files come at the paths they have, so a reboot opens them again as the first boot did.
    /// </summary>
    public static IReadOnlyList<JailMount> Collect(MachineConfig config, string? runtimeDirectory)
    {
        var mounts = new Dictionary<string, JailMount>(StringComparer.Ordinal);
        void Add(JailMount mount)
        {
            string path = System.IO.Path.GetFullPath(mount.Path);
            if (!mounts.TryGetValue(path, out var existing) || (mount.Writable && !existing.Writable))
            {
                mounts[path] = mount with { Path = path };
            }
        }

        if (runtimeDirectory is not null)
        {
            Add(new JailMount(runtimeDirectory, Writable: true, Directory: true));
        }

        foreach (string? file in new[] { config.KernelPath, config.InitrdPath })
        {
            if (file is not null)
            {
                Add(new JailMount(file, Writable: false));
            }
        }

        if (config.Firmware == FirmwareKind.Bios)
        {
            Add(new JailMount(config.FirmwarePath, Writable: false));
            string vgaBios = Boot.OptionRomImage.StdVgaBiosBeside(config.FirmwarePath);
            if (File.Exists(vgaBios))
            {
                Add(new JailMount(vgaBios, Writable: false));
            }
        }

        foreach (var disk in config.Disks)
        {
            // A block device comes without nodev, or the VM could not open it again for a reboot.
            Add(new JailMount(disk.Path, Writable: !disk.ReadOnly, Device: LibcNative.StatIdentity(disk.Path) is { IsBlockDevice: true }));
        }

        foreach (var open in OpenRegularFiles())
        {
            if (runtimeDirectory is null || !open.Path.StartsWith(System.IO.Path.GetFullPath(runtimeDirectory) + "/", StringComparison.Ordinal))
            {
                Add(open);
            }
        }

        foreach (string folder in HostedRuntimeFolders())
        {
            Add(new JailMount(folder, Writable: false, Directory: true, Executable: true));
        }

        Add(new JailMount("/dev/kvm", Writable: true, Device: true));
        if (config.Nics.Any(n => n.Kind != NicKind.User))
        {
            Add(new JailMount("/dev/net/tun", Writable: true, Device: true));
        }

        foreach (string device in new[] { "/dev/null", "/dev/zero", "/dev/urandom" })
        {
            Add(new JailMount(device, Writable: true, Device: true));
        }

        // A file inside a folder that comes in anyway, with rights the folder's mount gives, needs no mount of its own.
        var folders = mounts.Values.Where(m => m.Directory).ToList();
        return [.. mounts.Values
            .Where(m => m.Directory || !folders.Any(f => m.Path.StartsWith(f.Path + "/", StringComparison.Ordinal) && (f.Writable || !m.Writable)))
            .OrderBy(m => m.Path, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The folders a JIT build (what the dashboard runs while there is no NativeAOT publish) loads assemblies and the
    /// runtime's native libraries from, as the .NET host listed them; none for a NativeAOT VMM, which is one file. The
    /// runtime loads an assembly when it first needs it, after the jail too (the control server's first client loads
    /// System.Threading.Channels): without these folders that load failed in the jail and the VMM never greeted the
    /// dashboard. They come in read-only, and without noexec: the runtime maps a native library it loads late (zlib's
    /// System.IO.Compression.Native, for the first VNC client's ZRLE) executable, which a noexec mount refuses. (<c>RuntimeFeature.IsDynamicCodeSupported</c> cannot tell the two builds apart:
    /// PublishAot turns it off in the JIT build's runtimeconfig.json too.)
    /// </summary>
    private static SortedSet<string> HostedRuntimeFolders()
    {
        var folders = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (key, isFileList) in new[] { ("TRUSTED_PLATFORM_ASSEMBLIES", true), ("NATIVE_DLL_SEARCH_DIRECTORIES", false) })
        {
            if (AppContext.GetData(key) is not string list)
            {
                continue;
            }

            foreach (string entry in list.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string? folder = isFileList ? System.IO.Path.GetDirectoryName(entry) : entry;
                if (folder is { Length: > 1 } && System.IO.Directory.Exists(folder))
                {
                    folders.Add(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(folder)));
                }
            }
        }

        return folders;
    }

    /// <summary>The regular files this process holds open, and whether each is open for writing (/proc/self/fd and fdinfo).</summary>
    private static IEnumerable<JailMount> OpenRegularFiles()
    {
        foreach (string link in System.IO.Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (int.TryParse(System.IO.Path.GetFileName(link), out int fd) && fd <= 2)
            {
                continue; // stdin, stdout and stderr: a terminal, a pipe or the log, never the VM's
            }

            string? target;
            try
            {
                target = new FileInfo(link).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }

            if (target is null || !target.StartsWith('/') || target.EndsWith(" (deleted)", StringComparison.Ordinal) ||
                target.StartsWith("/dev/", StringComparison.Ordinal) || target.StartsWith("/proc/", StringComparison.Ordinal) ||
                !LibcNative.IsRegularFile(target))
            {
                continue; // sockets, pipes, anon inodes, devices
            }

            bool writable = false;
            try
            {
                string info = File.ReadAllText($"/proc/self/fdinfo/{System.IO.Path.GetFileName(link)}");
                int at = info.IndexOf("flags:", StringComparison.Ordinal);
                if (at >= 0)
                {
                    string octal = info[(at + 6)..].TrimStart().Split('\n')[0].Trim();
                    writable = (Convert.ToInt32(octal, 8) & 3) != 0; // O_WRONLY or O_RDWR
                }
            }
            catch (Exception ex) when (ex is IOException or FormatException)
            {
            }

            yield return new JailMount(target, writable);
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Path} ({(Writable ? "rw" : "ro")})");
}
