using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Platform.Web.Data;

namespace Platform.Web.Services.CloudInit;

/// <summary>
/// The files of a NoCloud seed, as text: <c>meta-data</c> (instance id, host name), <c>user-data</c> (a
/// <c>#cloud-config</c> made from the settings, or the user's own) and <c>network-config</c> (version 2: each of the
/// VM's NICs matched by MAC, with DHCP or its static addresses). Strings are written as JSON strings, which YAML reads as its double-quoted
/// scalars, so nothing a user types can change the document's structure. The instance id is a hash of the rest: a
/// change of the settings is a new instance, so cloud-init applies them at the next boot.
/// </summary>
public sealed record CloudInitDocuments(string MetaData, string UserData, string? NetworkConfig, string InstanceId)
{
    public const string MetaDataName = "meta-data";
    public const string UserDataName = "user-data";
    public const string NetworkConfigName = "network-config";

    private static readonly JsonSerializerOptions Quoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static CloudInitDocuments For(VirtualMachine vm, VmCloudInit settings)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(settings);
        string hostname = string.IsNullOrWhiteSpace(settings.Hostname) ? CloudInitRules.HostnameFor(vm.Name) : settings.Hostname.Trim().ToLowerInvariant();
        string userData = string.IsNullOrWhiteSpace(settings.UserData) ? CloudConfig(settings, hostname) : Normalize(settings.UserData);
        string? network = NetworkConfigFor(vm, settings);
        string shortName = hostname.Split('.')[0];

        // The id covers everything the guest is given, the VM's id included (two VMs never share one).
        string digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Join("\0", vm.Id.ToString("N"), hostname, userData, network ?? ""))))[..16];
        string instanceId = $"iid-{vm.Id:N}-{digest}";
        string metaData = $"instance-id: {Quote(instanceId)}\nlocal-hostname: {Quote(shortName)}\n";
        return new CloudInitDocuments(metaData, userData, network, instanceId);
    }

    /// <summary>The files by name, as they go into the seed image.</summary>
    public IReadOnlyDictionary<string, string> Files()
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal) { [MetaDataName] = MetaData, [UserDataName] = UserData };
        if (NetworkConfig is not null)
        {
            files[NetworkConfigName] = NetworkConfig;
        }

        return files;
    }

    private static string CloudConfig(VmCloudInit settings, string hostname)
    {
        var yaml = new StringBuilder("#cloud-config\n");
        string shortName = hostname.Split('.')[0];
        yaml.Append("hostname: ").Append(Quote(shortName)).Append('\n');
        if (hostname.Contains('.', StringComparison.Ordinal))
        {
            yaml.Append("fqdn: ").Append(Quote(hostname)).Append('\n');
        }

        yaml.Append("preserve_hostname: false\n");
        yaml.Append("users:\n");
        yaml.Append("  - name: ").Append(Quote(settings.UserName.Trim())).Append('\n');
        yaml.Append("    shell: /bin/bash\n");
        yaml.Append("    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n");
        bool password = !string.IsNullOrEmpty(settings.PasswordHash);
        yaml.Append("    lock_passwd: ").Append(password ? "false" : "true").Append('\n');
        if (password)
        {
            yaml.Append("    passwd: ").Append(Quote(settings.PasswordHash!)).Append('\n');
        }

        var keys = CloudInitRules.Lines(settings.SshAuthorizedKeys ?? "").Select(l => l.Line).ToList();
        if (keys.Count > 0)
        {
            yaml.Append("    ssh_authorized_keys:\n");
            foreach (string key in keys)
            {
                yaml.Append("      - ").Append(Quote(key)).Append('\n');
            }
        }

        // Cloud images turn password logins over SSH off; a password the user set is meant to be used.
        yaml.Append("ssh_pwauth: ").Append(password ? "true" : "false").Append('\n');
        var packages = CloudInitRules.PackageNames(settings.Packages ?? "").Distinct(StringComparer.Ordinal).ToList();
        if (packages.Count > 0)
        {
            yaml.Append("package_update: true\npackages:\n");
            foreach (string package in packages)
            {
                yaml.Append("  - ").Append(Quote(package)).Append('\n');
            }
        }

        return yaml.ToString();
    }

    /// <summary>
    /// Each NIC matched by its MAC: DHCP, or the static addresses of <see cref="VmCloudInit.StaticNics"/> for its
    /// position. Default routes are written as <c>routes</c> to 0.0.0.0/0 and ::/0, which netplan and cloud-init's own
    /// renderers (ifupdown, networkd) all read; <c>gateway4</c> is deprecated and <c>to: default</c> older cloud-inits
    /// do not know. Null without NICs (cloud-init then does DHCP on the first it finds).
    /// </summary>
    private static string? NetworkConfigFor(VirtualMachine vm, VmCloudInit settings)
    {
        var nics = vm.Nics.OrderBy(n => n.Position).ToList();
        if (nics.Count == 0)
        {
            return null;
        }

        var yaml = new StringBuilder("version: 2\nethernets:\n");
        for (int i = 0; i < nics.Count; i++)
        {
            yaml.Append("  nic").Append(i).Append(":\n");
            yaml.Append("    match:\n      macaddress: ").Append(Quote(nics[i].MacAddress.ToLowerInvariant())).Append('\n');
            if (settings.StaticNics.FirstOrDefault(s => s.Position == nics[i].Position) is { } fixedAddress)
            {
                AppendStatic(yaml, fixedAddress);
            }
            else
            {
                yaml.Append("    dhcp4: true\n");
            }
        }

        return yaml.ToString();
    }

    private static void AppendStatic(StringBuilder yaml, VmCloudInitNic nic)
    {
        yaml.Append("    dhcp4: false\n");
        yaml.Append("    addresses:\n      - ").Append(Quote(nic.Ipv4Address)).Append('\n');
        if (nic.Ipv6Address is { } v6)
        {
            yaml.Append("      - ").Append(Quote(v6)).Append('\n');
        }

        var routes = new List<(string To, string Via)>();
        if (nic.Ipv4Gateway is { } gateway4)
        {
            routes.Add(("0.0.0.0/0", gateway4));
        }

        if (nic.Ipv6Gateway is { } gateway6)
        {
            routes.Add(("::/0", gateway6));
        }

        if (routes.Count > 0)
        {
            yaml.Append("    routes:\n");
            foreach (var (to, via) in routes)
            {
                yaml.Append("      - to: ").Append(Quote(to)).Append("\n        via: ").Append(Quote(via)).Append('\n');
            }
        }

        if (nic.DnsServers.Count > 0)
        {
            yaml.Append("    nameservers:\n      addresses:\n");
            foreach (string server in nic.DnsServers)
            {
                yaml.Append("        - ").Append(Quote(server)).Append('\n');
            }
        }
    }

    private static string Normalize(string text)
    {
        string unix = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        return unix.EndsWith('\n') ? unix : unix + "\n";
    }

    private static string Quote(string value) => JsonSerializer.Serialize(value, Quoting);
}
