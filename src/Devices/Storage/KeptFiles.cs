using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace Platform.Devices.Storage;

/// <summary>
/// Read-only files the VMM opened before it gave up its rights, kept open so that every later boot reads them too.
/// A jailed VMM builds its first boot as root, then runs as a uid of its own; a kernel, a base image or an ISO of the
/// dashboard's library is the dashboard's, mode 0600, so opening it again by name for a reboot would fail (and an ISO
/// would come up as an empty drive). The jail keeps each read-only file it mounts here (<see cref="Keep"/>); the code
/// that opens images and boot files asks here first (<see cref="OpenRead"/>, <see cref="ReadAllBytes"/>). Files not
/// kept are opened by name as before. Nothing is ever released: the set is fixed at start and lives as long as the VMM.
/// </summary>
public static class KeptFiles
{
    private static readonly ConcurrentDictionary<string, SafeFileHandle> Kept = new(StringComparer.Ordinal);

    /// <summary>Opens <paramref name="path"/> for reading now, with the rights this process has now, and keeps it.</summary>
    public static void Keep(string path) =>
        Kept.GetOrAdd(Path.GetFullPath(path), full => File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));

    /// <summary>True when <paramref name="path"/> is kept.</summary>
    public static bool IsKept(string path) => Kept.ContainsKey(Path.GetFullPath(path));

    /// <summary>
    /// The kept file at <paramref name="path"/> (a handle that does not close it: disposing it is harmless), or the file
    /// opened by name for reading, shared as <paramref name="share"/> says.
    /// </summary>
    public static SafeFileHandle OpenRead(string path, FileShare share) =>
        Kept.TryGetValue(Path.GetFullPath(path), out var kept)
            ? new SafeFileHandle(kept.DangerousGetHandle(), ownsHandle: false)
            : File.OpenHandle(path, FileMode.Open, FileAccess.Read, share);

    /// <summary><see cref="File.ReadAllBytes"/>, from the kept file when there is one.</summary>
    public static byte[] ReadAllBytes(string path)
    {
        if (!Kept.TryGetValue(Path.GetFullPath(path), out var kept))
        {
            return File.ReadAllBytes(path);
        }

        long length = RandomAccess.GetLength(kept);
        if (length > Array.MaxLength)
        {
            throw new IOException($"{path} is too large to read at once ({length} bytes).");
        }

        byte[] bytes = new byte[length];
        int done = 0;
        while (done < bytes.Length)
        {
            int read = RandomAccess.Read(kept, bytes.AsSpan(done), done);
            if (read == 0)
            {
                throw new EndOfStreamException($"{path} ended at byte {done} of {length} while it was read.");
            }

            done += read;
        }

        return bytes;
    }
}
