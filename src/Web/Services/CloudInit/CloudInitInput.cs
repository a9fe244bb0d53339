namespace Platform.Web.Services.CloudInit;

/// <summary>
/// A VM's cloud-init settings as a user gives them, in <c>PUT /api/v1/vms/{id}/cloud-init</c> and behind the wizard's
/// step and the Cloud-init tab; checked by <see cref="CloudInitRules"/>. The password is write-only: it is hashed when
/// saved and never shown again.
/// </summary>
public sealed class CloudInitInput
{
    /// <summary>False: the VM gets no seed disk (the settings are kept).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Empty: the VM's name, made a valid host name.</summary>
    public string? Hostname { get; set; }

    public string UserName { get; set; } = "debian";

    /// <summary>A new password for the user; null (left out) keeps the current one, "" removes it (SSH keys only then).</summary>
    public string? Password { get; set; }

    /// <summary>OpenSSH public keys, one a line (<c>ssh-ed25519 AAAA… comment</c>).</summary>
    public string? SshAuthorizedKeys { get; set; }

    /// <summary>Debian package names, separated by spaces, commas or lines.</summary>
    public string? Packages { get; set; }

    /// <summary>Your own user-data (<c>#cloud-config</c> or a <c>#!</c> script) instead of the generated one.</summary>
    public string? UserData { get; set; }

    /// <summary>
    /// Each NIC's network settings, by position; a NIC left out gets DHCP. Null (left out of a request) keeps the
    /// addresses set before, so a client that knows nothing of them does not clear them.
    /// </summary>
    public List<CloudInitNicInput>? Networks { get; set; }
}
