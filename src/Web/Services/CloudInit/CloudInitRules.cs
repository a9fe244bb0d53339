using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace Platform.Web.Services.CloudInit;

/// <summary>
/// What a cloud-init setting may be, checked before anything is saved: host names as RFC 1123 has them, user names as
/// Debian's <c>useradd</c> takes them, OpenSSH public keys whose blob names the key type they claim, Debian package
/// names, and user-data cloud-init recognizes. Each problem is keyed by the field (camelCase, as the API names it).
/// </summary>
public static partial class CloudInitRules
{
    public const int MaxHostnameLength = 253;
    public const int MaxUserNameLength = 32;
    public const int MaxPasswordLength = 256;
    public const int MaxKeysLength = 64 * 1024;
    public const int MaxPackagesLength = 4096;
    public const int MaxUserDataLength = 64 * 1024;

    /// <summary>The key types OpenSSH 9 accepts in <c>authorized_keys</c> (DSA is gone from it).</summary>
    public static readonly IReadOnlySet<string> KeyTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    };

    /// <summary>User names cloud-init would clash with or that a cloud image keeps for itself.</summary>
    private static readonly HashSet<string> ReservedUsers = new(StringComparer.Ordinal)
    {
        "root", "daemon", "bin", "sys", "sync", "nobody", "sshd", "systemd-network", "messagebus",
    };

    /// <param name="passwordHashKept">Whether a password is stored already and <paramref name="input"/> keeps it (Password null).</param>
    /// <param name="nics">The VM's NICs, for the static addresses of <see cref="CloudInitInput.Networks"/> (<see cref="CloudInitNetworkRules"/>).</param>
    public static Dictionary<string, string[]> Validate(CloudInitInput input, bool passwordHashKept, IReadOnlyList<CloudInitNicFacts>? nics = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Add(string key, string? problem)
        {
            if (problem is not null)
            {
                errors[key] = errors.TryGetValue(key, out var list) ? [.. list, problem] : [problem];
            }
        }

        if (!string.IsNullOrWhiteSpace(input.Hostname))
        {
            Add("hostname", CheckHostname(input.Hostname.Trim()));
        }

        Add("userName", CheckUserName(input.UserName?.Trim()));
        if (input.Password is { Length: > 0 } password)
        {
            Add("password", password.Length > MaxPasswordLength ? $"A password has at most {MaxPasswordLength} characters."
                : password.Any(char.IsControl) ? "A password cannot hold control characters (line breaks, tabs)." : null);
        }

        if (input.SshAuthorizedKeys is { } keys)
        {
            if (keys.Length > MaxKeysLength)
            {
                Add("sshAuthorizedKeys", $"The keys take at most {MaxKeysLength / 1024} KiB.");
            }
            else
            {
                foreach (var (line, number) in Lines(keys))
                {
                    Add("sshAuthorizedKeys", CheckPublicKey(line) is { } problem ? $"Line {number}: {problem}" : null);
                }
            }
        }

        if (input.Packages is { } packages)
        {
            Add("packages", packages.Length > MaxPackagesLength ? $"The package list takes at most {MaxPackagesLength} characters."
                : PackageNames(packages).FirstOrDefault(p => !PackageName().IsMatch(p)) is { } bad
                    ? $"{bad} is not a Debian package name (lower-case letters, digits, '+', '-' and '.', starting with a letter or digit)."
                    : null);
        }

        if (!string.IsNullOrWhiteSpace(input.UserData))
        {
            Add("userData", CheckUserData(input.UserData));
        }

        if (input.Networks is { } networks)
        {
            CloudInitNetworkRules.Validate(networks, nics, Add);
        }

        bool hasPassword = input.Password is { Length: > 0 } || (input.Password is null && passwordHashKept);
        bool anyKey = input.SshAuthorizedKeys is { } k && Lines(k).Any();
        if (input.Enabled && string.IsNullOrWhiteSpace(input.UserData) && !hasPassword && !anyKey && !errors.ContainsKey("sshAuthorizedKeys"))
        {
            Add("sshAuthorizedKeys", "Give the user a password or an SSH public key: a cloud image has no other way to log in.");
        }

        return errors;
    }

    /// <summary>RFC 1123 host name: labels of 1–63 letters, digits and '-', not starting or ending with '-'; 253 in all.</summary>
    public static string? CheckHostname(string hostname)
    {
        if (hostname.Length > MaxHostnameLength)
        {
            return $"A host name has at most {MaxHostnameLength} characters.";
        }

        foreach (string label in hostname.Split('.'))
        {
            if (label.Length is 0 or > 63 || !HostLabel().IsMatch(label))
            {
                return $"{hostname} is not a host name: each part between dots has 1 to 63 letters, digits or '-', and neither starts nor ends with '-'.";
            }
        }

        return hostname.Split('.')[0].All(char.IsAsciiDigit) ? $"{hostname} is not a host name: its first part cannot be all digits." : null;
    }

    public static string? CheckUserName(string? name) => string.IsNullOrEmpty(name)
        ? "Name the user cloud-init makes (cloud images have no other)."
        : name.Length > MaxUserNameLength ? $"A user name has at most {MaxUserNameLength} characters."
        : !UserName().IsMatch(name) ? $"{name} is not a user name: lower-case letters, digits, '_' and '-', starting with a letter or '_'."
        : ReservedUsers.Contains(name) ? $"{name} is a system user; choose another name (the user gets sudo)."
        : null;

    /// <summary>
    /// One <c>authorized_keys</c> line without options: <c>type base64 [comment]</c>, whose decoded blob starts with the
    /// same type (as ssh-keygen checks it), so a key pasted whole, and only a public key, passes.
    /// </summary>
    public static string? CheckPublicKey(string line)
    {
        if (line.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            return "this is a private key: paste the public one (the .pub file), and keep the private key to yourself.";
        }

        string[] parts = line.Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || !KeyTypes.Contains(parts[0]))
        {
            return $"an SSH public key starts with its type ({string.Join(", ", KeyTypes.Order(StringComparer.Ordinal))}), then the key in base64.";
        }

        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(parts[1]);
        }
        catch (FormatException)
        {
            return $"the {parts[0]} key is not valid base64 (cut short when pasted?).";
        }

        uint length = blob.Length < 4 ? uint.MaxValue : BinaryPrimitives.ReadUInt32BigEndian(blob);
        if (length > blob.Length - 4 || Encoding.ASCII.GetString(blob, 4, (int)length) != parts[0])
        {
            return $"the key's data is not a {parts[0]} key (its type inside says otherwise).";
        }

        return null;
    }

    /// <summary>cloud-init acts on user-data by its first line: a cloud-config, a script, an include list or MIME.</summary>
    public static string? CheckUserData(string userData)
    {
        if (userData.Length > MaxUserDataLength)
        {
            return $"User-data takes at most {MaxUserDataLength / 1024} KiB.";
        }

        string first = userData.TrimStart().Split('\n', 2)[0].TrimEnd('\r');
        return first.StartsWith("#cloud-config", StringComparison.Ordinal) || first.StartsWith("#!", StringComparison.Ordinal)
            || first.StartsWith("#include", StringComparison.Ordinal) || first.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase)
            ? null
            : "cloud-init ignores user-data it does not recognize: start it with #cloud-config (YAML), #! (a script), #include or a MIME Content-Type.";
    }

    /// <summary>The VM's name as a host name: lower-case, anything else become '-', at most 63 characters.</summary>
    public static string HostnameFor(string vmName)
    {
        string name = new([.. vmName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]);
        name = name.Trim('-');
        name = name.Length > 63 ? name[..63].TrimEnd('-') : name;
        return name.Length == 0 || name.All(char.IsAsciiDigit) ? $"vm-{name}".TrimEnd('-') : name;
    }

    /// <summary>The non-empty, non-comment lines with their 1-based numbers.</summary>
    public static IEnumerable<(string Line, int Number)> Lines(string text) =>
        text.Split('\n').Select((line, i) => (line.Trim(), i + 1)).Where(l => l.Item1.Length > 0 && !l.Item1.StartsWith('#'));

    public static IEnumerable<string> PackageNames(string packages) =>
        packages.Split([' ', ',', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")]
    private static partial Regex HostLabel();

    [GeneratedRegex("^[a-z_][a-z0-9_-]*$")]
    private static partial Regex UserName();

    [GeneratedRegex("^[a-z0-9][a-z0-9+.-]+$")]
    private static partial Regex PackageName();
}
