using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Networks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.CloudInit;

/// <summary>
/// A VM's cloud-init settings (<c>/api/v1/vms/{id}/cloud-init</c>, the wizard's step, the Cloud-init tab) and its seed
/// image: <c>{DataDirectory}/disks/{vm id}/cidata.iso</c>, made again at a start when the settings (or the VM's NICs)
/// changed since the last one. A password is hashed before it is stored; no password, hash or key reaches a log or an
/// event (they say which settings changed, never their values).
/// </summary>
public sealed class CloudInitService(IDbContextFactory<PlatformDbContext> dbFactory, VmDiskFiles diskFiles, IVmEventLog events, ILogger<CloudInitService> logger)
{
    public const string SeedFileName = "cidata.iso";

    /// <summary>Beside the seed: the instance id it was made for, so an unchanged seed is not written again.</summary>
    private const string StampFileName = "cidata.iso.instance-id";

    public string SeedPathOf(Guid vmId) => Path.Combine(diskFiles.FolderOf(vmId), SeedFileName);

    /// <summary>Saves the settings of VM <paramref name="vmId"/> (made if it has none), after <see cref="CloudInitRules"/>.</summary>
    public async Task<ServiceResult<VmCloudInit>> SaveAsync(Guid vmId, CloudInitInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var vm = await db.VirtualMachines.FirstOrDefaultAsync(v => v.Id == vmId, cancellationToken);
        if (vm is null)
        {
            return ServiceResult<VmCloudInit>.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted.");
        }

        var settings = vm.CloudInit;
        var nics = vm.Nics.Select(n => CloudInitNicFacts.Of(n.Position, n.Network)).ToList();
        var errors = CloudInitRules.Validate(input, passwordHashKept: settings?.PasswordHash is not null, nics);
        if (errors.Count > 0)
        {
            return ServiceResult<VmCloudInit>.Invalid(errors);
        }

        bool added = settings is null;
        settings ??= new VmCloudInit { VirtualMachineId = vm.Id };
        Apply(settings, input);
        if (added)
        {
            db.VmCloudInits.Add(settings);
        }

        await db.SaveChangesAsync(cancellationToken);
        await events.AddAsync(new VmEvent
        {
            VmId = vm.Id, VmName = vm.Name, Kind = VmEventKinds.CloudInit, Result = VmEventResult.Succeeded,
            Message = $"Changed the cloud-init settings of {vm.Name}: {Describe(settings)}. They apply at its next start.",
        }, cancellationToken);
        return ServiceResult<VmCloudInit>.Ok(settings);
    }

    /// <summary>Copies <paramref name="input"/> onto <paramref name="settings"/>: text trimmed, empty as null, the password hashed.</summary>
    public static void Apply(VmCloudInit settings, CloudInitInput input)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(input);
        static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

        settings.Enabled = input.Enabled;
        settings.Hostname = Text(input.Hostname)?.ToLowerInvariant();
        settings.UserName = input.UserName.Trim();
        if (input.Password is not null)
        {
            settings.PasswordHash = input.Password.Length == 0 ? null : Sha512Crypt.Hash(input.Password);
        }

        settings.SshAuthorizedKeys = Text(input.SshAuthorizedKeys);
        settings.Packages = Text(input.Packages);
        settings.UserData = Text(input.UserData) is null ? null : input.UserData;
        if (input.Networks is { } networks)
        {
            settings.StaticNics = [.. networks.Where(n => n.Mode == CloudInitNicMode.Static).OrderBy(n => n.Position).Select(StaticNic)];
        }

        settings.UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>A checked static entry as stored: addresses in their canonical text (<c>2001:db8::1/64</c>, not zero-padded).</summary>
    private static VmCloudInitNic StaticNic(CloudInitNicInput input)
    {
        static string? Address(string? text) => IpPrefix.TryParseAddress(text, out var address) ? address.ToString() : null;
        static string? Prefix(string? text) => IpPrefix.TryParse(text, out var prefix) ? prefix.ToString() : null;
        return new VmCloudInitNic
        {
            Position = input.Position,
            Ipv4Address = Prefix(input.Ipv4Address) ?? throw new ArgumentException("The IPv4 address was not checked.", nameof(input)),
            Ipv4Gateway = Address(input.Ipv4Gateway),
            DnsServers = [.. (input.DnsServers ?? []).Select(Address).OfType<string>()],
            Ipv6Address = Prefix(input.Ipv6Address),
            Ipv6Gateway = Address(input.Ipv6Gateway),
        };
    }

    /// <summary>What the settings are, with no secret in it: for events and the page.</summary>
    public static string Describe(VmCloudInit settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.Enabled)
        {
            return "off (no seed disk)";
        }

        int keys = CloudInitRules.Lines(settings.SshAuthorizedKeys ?? "").Count();
        int packages = CloudInitRules.PackageNames(settings.Packages ?? "").Count();
        return string.Join(", ", new[]
        {
            $"user {settings.UserName}",
            settings.PasswordHash is null ? "no password" : "a password",
            $"{keys} SSH key{(keys == 1 ? "" : "s")}",
            settings.Hostname is { } host ? $"host name {host}" : null,
            packages > 0 ? $"{packages} package{(packages == 1 ? "" : "s")}" : null,
            settings.UserData is not null ? "user-data of its own" : null,
            settings.StaticNics.Count > 0 ? $"static addresses on NIC {string.Join(", ", settings.StaticNics.Select(n => n.Position))}" : null,
        }.Where(part => part is not null));
    }

    /// <summary>
    /// The seed for <paramref name="vm"/> (its NICs and cloud-init settings loaded), made or made again when what it
    /// holds changed; null when the VM has no cloud-init. Throws <see cref="IOException"/> saying why it cannot be made.
    /// </summary>
    public string? EnsureSeed(VirtualMachine vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (vm.CloudInit is not { Enabled: true } settings)
        {
            return null;
        }

        var documents = CloudInitDocuments.For(vm, settings);
        string seed = SeedPathOf(vm.Id);
        string stamp = Path.Combine(diskFiles.FolderOf(vm.Id), StampFileName);
        if (File.Exists(seed) && File.Exists(stamp) && File.ReadAllText(stamp).Trim() == documents.InstanceId)
        {
            return seed;
        }

        CloudInitSeedImage.Write(seed, documents.Files());
        // After the seed: a crash in between leaves an old stamp, and the next start writes the seed again.
        File.WriteAllText(stamp, documents.InstanceId + "\n");
        logger.LogInformation("Wrote the cloud-init seed {Seed} of {Vm} (instance {InstanceId})", seed, vm.Name, documents.InstanceId);
        return seed;
    }

    /// <summary>
    /// The seed as the VM's last disk (<paramref name="vm"/> with its disks, NICs and settings loaded): where it is, its
    /// size if written, and whether it is current. Null when the VM gets no seed. Reads files only; writes nothing.
    /// </summary>
    public CloudInitSeedDetails? DescribeSeed(VirtualMachine vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (vm.CloudInit is not { Enabled: true } settings)
        {
            return null;
        }

        string seed = SeedPathOf(vm.Id);
        string stamp = Path.Combine(diskFiles.FolderOf(vm.Id), StampFileName);
        var file = new FileInfo(seed);
        if (!file.Exists)
        {
            return new CloudInitSeedDetails(vm.Disks.Count, seed, null, null, false, "Written at the VM's next start.");
        }

        try
        {
            bool current = File.Exists(stamp) && File.ReadAllText(stamp).Trim() == CloudInitDocuments.For(vm, settings).InstanceId;
            return new CloudInitSeedDetails(vm.Disks.Count, seed, file.Length, HostFileNative.AllocatedBytes(seed), current,
                current ? null : "The settings changed since it was written: written again, with a new instance id, at the VM's next start.");
        }
        catch (IOException ex)
        {
            // Being written by a start right now, or gone: say so rather than fail the page.
            return new CloudInitSeedDetails(vm.Disks.Count, seed, null, null, false, $"Could not be read ({ex.Message}); a start writes it again.");
        }
    }

    /// <summary>The seed's files in a VM's disk folder: deleted with the VM, whatever it keeps.</summary>
    public static IEnumerable<string> SeedFilesIn(string folder) => [Path.Combine(folder, SeedFileName), Path.Combine(folder, StampFileName)];
}
