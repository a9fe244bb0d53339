namespace Platform.Web.Data;

/// <summary>
/// A VM's cloud-init settings (the NoCloud data source, as Proxmox and multipass use it): the dashboard writes them to a
/// seed image labelled <c>cidata</c> that the VM gets as its last disk, read-only, so a distribution's cloud image
/// (Debian's <c>genericcloud</c>, Ubuntu's cloud images) sets its host name and lets its user log in at first boot. No
/// row, or <see cref="Enabled"/> false: no seed disk.
/// </summary>
public sealed class VmCloudInit
{
    public Guid VirtualMachineId { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>The guest's host name (RFC 1123); null: the VM's name, made a valid host name.</summary>
    public string? Hostname { get; set; }

    /// <summary>The user cloud-init creates, with sudo; cloud images have no other way in.</summary>
    public string UserName { get; set; } = "debian";

    /// <summary>The user's password as a SHA-512 crypt(3) hash (<c>$6$…</c>), never the password; null: keys only.</summary>
    public string? PasswordHash { get; set; }

    /// <summary>OpenSSH public keys, one a line, as in <c>authorized_keys</c> without options.</summary>
    public string? SshAuthorizedKeys { get; set; }

    /// <summary>Debian packages to install at first boot, separated by spaces or lines.</summary>
    public string? Packages { get; set; }

    /// <summary>
    /// User-data of the user's own (a <c>#cloud-config</c> document or a <c>#!</c> script) sent instead of the generated
    /// one; the host name still comes from meta-data. Null: the user-data made from the fields above.
    /// </summary>
    public string? UserData { get; set; }

    /// <summary>The NICs with static addresses; every other NIC of the VM gets DHCP.</summary>
    public List<VmCloudInitNic> StaticNics { get; set; } = [];

    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}
