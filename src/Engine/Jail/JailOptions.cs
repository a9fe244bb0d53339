using System.Globalization;

namespace Platform.Engine.Jail;

/// <summary>
/// How platform-vmm confines itself: <c>--jail UID[:GID]</c>, or by default the dedicated uid/gid
/// <see cref="DefaultId"/> when started as root; <c>--no-jail</c> turns it off (and says so loudly).
/// </summary>
public sealed record JailOptions(uint Uid, uint Gid)
{
    /// <summary>The uid and gid a root-started VMM drops to when the command line names none.</summary>
    public const uint DefaultId = 200000;

    /// <summary>Set in the environment to run the filter in log mode: what it would kill is logged and runs (for building the lists).</summary>
    public const string LogModeVariable = "PLATFORM_VMM_SECCOMP";

    /// <summary>"UID" or "UID:GID", unprivileged (not 0).</summary>
    public static JailOptions Parse(string text)
    {
        string[] parts = text.Split(':');
        if (parts.Length > 2 || !TryId(parts[0], out uint uid) || !(parts.Length == 1 ? TryId(parts[0], out uint gid) : TryId(parts[1], out gid)))
        {
            throw new FormatException($"--jail takes UID or UID:GID, numbers from 1 to 4294967294 (got {text})");
        }

        return new JailOptions(uid, gid);
    }

    private static bool TryId(string text, out uint id) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id is > 0 and < uint.MaxValue;

    public override string ToString() => $"{Uid}:{Gid}";
}
