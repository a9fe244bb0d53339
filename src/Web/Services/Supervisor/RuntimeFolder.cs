using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using static Platform.Web.Services.Supervisor.RuntimeFolderNative;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// A VM's runtime folder as the dashboard (root) must touch it: the jail gives the folder to the VM's unprivileged uid,
/// so a VMM that a guest took over can plant anything there — a symbolic link <c>vm.json -> /etc/shadow</c>, a FIFO
/// that blocks a reader, a hard link. Every name is therefore resolved relative to a descriptor of the folder, opened
/// once with O_NOFOLLOW (its own name lives in the root-owned runtime root, which the VM cannot change), and opened
/// with O_NOFOLLOW and O_NOCTTY; an entry that is not what the dashboard made (a regular file or socket of its own
/// uid, one link) is refused, logged with the reason and raised as <see cref="Refused"/>. Files the dashboard writes
/// are made new (O_CREAT | O_EXCL after the old name is unlinked), never opened for writing as they are.
/// </summary>
internal sealed partial class RuntimeFolder : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const int NoSuchEntry = 2;
    private const int TooManyLinks = 40; // ELOOP: O_NOFOLLOW met a symbolic link.
    private const int NotADirectory = 20;

    private readonly SafeFileHandle _folder;

    private RuntimeFolder(string path, SafeFileHandle folder, uint owner)
    {
        Path = path;
        _folder = folder;
        Owner = owner;
    }

    /// <summary>Where refusals are logged (the supervisor sets it; nothing is logged before).</summary>
    public static ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Each refusal: the entry's full path and why. Tests watch it; the log has the same line.</summary>
    public static event Action<string, string>? Refused;

    public string Path { get; }

    /// <summary>The folder's owner: the VM's uid while it is jailed (or was), the dashboard's own otherwise.</summary>
    public uint Owner { get; }

    private int Fd => (int)_folder.DangerousGetHandle();

    /// <summary>The dashboard's own uid: what every file it made, and every socket the VMM bound before its jail, belongs to.</summary>
    public static uint Self { get; } = GetEuid();

    /// <summary>Opens the folder; null when it does not exist. A link or a file in its place is an <see cref="IOException"/>.</summary>
    public static RuntimeFolder? Open(string path)
    {
        int fd = OpenAt(CurrentDirectory, path, ReadOnly | OnlyDirectory | NoFollow | CloseOnExec | NoControllingTerminal, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno == NoSuchEntry ? null : throw new IOException($"Cannot open the runtime folder {path}: {ErrorText(errno)}.");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var facts = Facts(fd) ?? throw new IOException($"Cannot read the runtime folder {path}: {ErrorText(Marshal.GetLastPInvokeError())}.");
        return new RuntimeFolder(path, handle, facts.Uid);
    }

    /// <summary>Makes the folder (owner-only) if it is missing, then opens it.</summary>
    public static RuntimeFolder OpenOrCreate(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            System.IO.Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return Open(path) ?? throw new IOException($"The runtime folder {path} vanished as it was made.");
    }

    /// <summary>
    /// Writes <paramref name="content"/> as <paramref name="name"/>, whole and owner-only: into a new temporary file
    /// (O_EXCL, after unlinking whatever had its name), then renamed over the name, which replaces a planted link
    /// itself and never what it points at.
    /// </summary>
    public void WriteNew(string name, ReadOnlySpan<byte> content)
    {
        if (FactsOf(Fd, name) is { } existing && !IsOurs(existing, TypeRegular))
        {
            Refuse(name, $"it was {Describe(existing)}; it is replaced, not written through");
        }

        string temporary = name + ".tmp";
        RemoveEntry(temporary, TypeRegular);
        using (var file = OpenChecked(temporary, WriteOnly | Create | Exclusive, TypeRegular))
        {
            RandomAccess.Write(file, content, 0);
        }

        if (RenameAt(Fd, temporary, Fd, name) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Cannot write {Full(name)}: {ErrorText(errno)}.");
        }
    }

    /// <summary>
    /// The content of <paramref name="name"/> (its last <paramref name="maxBytes"/>), or null when it does not exist
    /// or is refused: not a regular file with one link, or owned by neither the dashboard nor (when
    /// <paramref name="vmMayWrite"/>) the folder's owner. Opened non-blocking, so a planted FIFO cannot hold the reader.
    /// </summary>
    public byte[]? Read(string name, int maxBytes, bool vmMayWrite = false)
    {
        int fd = OpenAt(Fd, name, ReadOnly | NoFollow | NoControllingTerminal | NonBlocking | CloseOnExec, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != NoSuchEntry)
            {
                Refuse(name, errno == TooManyLinks ? "it is a symbolic link" : ErrorText(errno));
            }

            return null;
        }

        using var file = new SafeFileHandle(fd, ownsHandle: true);
        var facts = Facts(fd);
        if (facts is not { } f || f.Type != TypeRegular || f.Links != 1 || (f.Uid != Self && !(vmMayWrite && f.Uid == Owner)))
        {
            Refuse(name, facts is { } known ? $"it is {Describe(known)}" : "it cannot be examined");
            return null;
        }

        long start = Math.Max(0, f.Size - maxBytes);
        byte[] buffer = new byte[(int)Math.Min(maxBytes, f.Size)];
        int read = RandomAccess.Read(file, buffer, start);
        return read == buffer.Length ? buffer : buffer[..read];
    }

    /// <summary>
    /// Opens <paramref name="name"/> to append to it, made new when it is not the dashboard's own regular file or has
    /// grown past <paramref name="maxBytes"/>. The VMM's output goes there through this descriptor, never the name.
    /// </summary>
    public SafeFileHandle OpenForAppend(string name, long maxBytes)
    {
        if (FactsOf(Fd, name) is { } existing)
        {
            if (!IsOurs(existing, TypeRegular))
            {
                Refuse(name, $"it was {Describe(existing)}; a new one is made");
                RemoveEntry(name, existing.Type);
            }
            else if (existing.Size > maxBytes)
            {
                RemoveEntry(name, TypeRegular);
            }
        }

        return OpenChecked(name, WriteOnly | Append | Create, TypeRegular);
    }

    /// <summary>
    /// A path that connects to the socket <paramref name="name"/> and nothing else while <paramref name="handle"/> is open:
    /// <c>/proc/self/fd/N</c> of an O_PATH descriptor, checked to be a socket of the dashboard's uid (the VMM binds its
    /// sockets as root, before its jail). Null when there is none, or when it is refused (a link to another service's socket).
    /// </summary>
    public string? OpenSocket(string name, out SafeFileHandle? handle)
    {
        handle = null;
        int fd = OpenAt(Fd, name, PathOnly | NoFollow | CloseOnExec, 0);
        if (fd < 0)
        {
            return null;
        }

        var file = new SafeFileHandle(fd, ownsHandle: true);
        var facts = Facts(fd);
        if (facts is not { } f || !IsOurs(f, TypeSocket))
        {
            file.Dispose();
            Refuse(name, facts is { } known ? $"it is {Describe(known)}, not a socket the VMM bound" : "it cannot be examined");
            return null;
        }

        handle = file;
        return string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fd}");
    }

    /// <summary>Whether <paramref name="name"/> is a socket of the dashboard's uid (without connecting).</summary>
    public bool HasSocket(string name) => FactsOf(Fd, name) is { } facts && IsOurs(facts, TypeSocket);

    /// <summary>Removes the entry <paramref name="name"/> (never what it points at); one not of <paramref name="expectedType"/> is logged.</summary>
    public void Delete(string name, uint expectedType)
    {
        if (FactsOf(Fd, name) is not { } facts)
        {
            return;
        }

        if (!IsOurs(facts, expectedType) && !(expectedType == TypeRegular && facts.Type == TypeRegular && facts.Uid == Owner && facts.Links == 1))
        {
            Refuse(name, $"it was {Describe(facts)}; the entry itself is removed");
        }

        RemoveEntry(name, facts.Type);
    }

    /// <summary>
    /// Removes the folder at <paramref name="path"/> and everything in it without following a link: each entry is
    /// unlinked through a descriptor of the folder that holds it (unlinkat), each subfolder opened with O_NOFOLLOW.
    /// A subfolder still mounted on (a jail's root while its keeper lives) is left, and said.
    /// </summary>
    public static void RemoveTree(string path)
    {
        using (var folder = Open(path))
        {
            if (folder is null)
            {
                return;
            }

            folder.EmptyTree();
        }

        try
        {
            System.IO.Directory.Delete(path); // rmdir: the runtime root is the dashboard's, so the name is this folder.
        }
        catch (IOException ex)
        {
            Log.NotRemoved(Logger, path, ex.Message);
        }
    }

    private void EmptyTree()
    {
        // The names are listed through the held descriptor (/proc/self/fd/N is this folder whatever its path now is).
        foreach (string entry in System.IO.Directory.EnumerateFileSystemEntries(string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{Fd}")))
        {
            string name = System.IO.Path.GetFileName(entry);
            if (FactsOf(Fd, name) is not { } facts)
            {
                continue;
            }

            if (facts.Type == TypeDirectory)
            {
                int fd = OpenAt(Fd, name, ReadOnly | OnlyDirectory | NoFollow | CloseOnExec, 0);
                if (fd >= 0)
                {
                    using var child = new RuntimeFolder(Full(name), new SafeFileHandle(fd, ownsHandle: true), facts.Uid);
                    child.EmptyTree();
                }
            }

            RemoveEntry(name, facts.Type);
        }
    }

    private SafeFileHandle OpenChecked(string name, int flags, uint type)
    {
        int fd = OpenAt(Fd, name, flags | NoFollow | NoControllingTerminal | CloseOnExec, (int)OwnerOnly);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Cannot open {Full(name)}: {(errno == TooManyLinks ? "it is a symbolic link" : ErrorText(errno))}.");
        }

        var file = new SafeFileHandle(fd, ownsHandle: true);
        if (Facts(fd) is not { } facts || !IsOurs(facts, type))
        {
            file.Dispose();
            throw new IOException($"Refused {Full(name)}: it is not a file the dashboard made.");
        }

        return file;
    }

    private void RemoveEntry(string name, uint type)
    {
        if (UnlinkAt(Fd, name, type == TypeDirectory ? RemoveDirectory : 0) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is not NoSuchEntry and not NotADirectory)
            {
                Log.NotRemoved(Logger, Full(name), ErrorText(errno));
            }
        }
    }

    private static bool IsOurs(FileFacts facts, uint type) => facts.Type == type && facts.Uid == Self && (type != TypeRegular || facts.Links == 1);

    private static string Describe(FileFacts facts) =>
        facts.Type == TypeRegular && facts.Links != 1 ? $"a regular file with {facts.Links} hard links"
        : string.Create(CultureInfo.InvariantCulture, $"{facts.Kind} owned by uid {facts.Uid}");

    private string Full(string name) => System.IO.Path.Combine(Path, name);

    private void Refuse(string name, string reason)
    {
        string path = Full(name);
        Log.Refused(Logger, path, reason);
        Refused?.Invoke(path, reason);
    }

    public void Dispose() => _folder.Dispose();

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Refused {Path} in a VM's runtime folder: {Reason} (the jailed VMM may have planted it)")]
        public static partial void Refused(ILogger logger, string path, string reason);

        [LoggerMessage(LogLevel.Warning, "Could not remove {Path}: {Reason}")]
        public static partial void NotRemoved(ILogger logger, string path, string reason);
    }
}
