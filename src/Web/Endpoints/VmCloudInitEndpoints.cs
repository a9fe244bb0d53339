using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>
/// A VM's cloud-init settings as <c>GET /api/v1/vms/{id}/cloud-init</c> shows them: the password only as whether one is
/// set (it is stored hashed and never shown), the host name the guest gets, whether any are configured at all, and each
/// of the VM's NICs with how the guest configures it (a PUT of the same body keeps all of it).
/// </summary>
public sealed record VmCloudInitResponse(
    bool Configured, bool Enabled, string? Hostname, string EffectiveHostname, string UserName, bool PasswordSet,
    string? SshAuthorizedKeys, string? Packages, string? UserData, string SeedDisk, IReadOnlyList<VmCloudInitNicResponse> Networks)
{
    public static VmCloudInitResponse From(VirtualMachine vm, VmCloudInit? settings)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var networks = vm.Nics.OrderBy(n => n.Position).Select(n => VmCloudInitNicResponse.From(n, settings?.StaticNics.FirstOrDefault(s => s.Position == n.Position))).ToList();
        return settings is null
            ? new(false, false, null, CloudInitRules.HostnameFor(vm.Name), "debian", false, null, null, null, SeedDiskText, networks)
            : new(true, settings.Enabled, settings.Hostname, settings.Hostname ?? CloudInitRules.HostnameFor(vm.Name), settings.UserName,
                settings.PasswordHash is not null, settings.SshAuthorizedKeys, settings.Packages, settings.UserData, SeedDiskText, networks);
    }

    private const string SeedDiskText = "an ISO 9660 volume labelled cidata, the VM's last disk, read-only";
}

/// <summary>
/// One NIC in <see cref="VmCloudInitResponse.Networks"/>: which NIC (position, MAC, network and its known subnet, for
/// reading) and how the guest configures it (mode and addresses, as <c>PUT</c> takes them in <c>networks</c>).
/// </summary>
public sealed record VmCloudInitNicResponse(
    int Position, string MacAddress, string? Network, string? NetworkSubnet, CloudInitNicMode Mode,
    string? Ipv4Address, string? Ipv4Gateway, IReadOnlyList<string> DnsServers, string? Ipv6Address, string? Ipv6Gateway)
{
    public static VmCloudInitNicResponse From(VmNic nic, VmCloudInitNic? fixedAddress)
    {
        ArgumentNullException.ThrowIfNull(nic);
        string? network = nic.Network?.Name ?? (nic.TapName is { } tap ? $"TAP {tap}" : null);
        return fixedAddress is null
            ? new(nic.Position, nic.MacAddress, network, nic.Network?.Subnet, CloudInitNicMode.Dhcp, null, null, [], null, null)
            : new(nic.Position, nic.MacAddress, network, nic.Network?.Subnet, CloudInitNicMode.Static, fixedAddress.Ipv4Address,
                fixedAddress.Ipv4Gateway, fixedAddress.DnsServers, fixedAddress.Ipv6Address, fixedAddress.Ipv6Gateway);
    }
}

/// <summary>
/// <c>/api/v1/vms/{id}/cloud-init</c>: read (VM.Audit) and set (VM.Config) the NoCloud settings through
/// <see cref="CloudInitService"/>. A change applies at the VM's next start, which writes the seed again with a new
/// instance id. The audit log records the request, never its body (the password).
/// </summary>
internal static class VmCloudInitEndpoints
{
    public static RouteGroupBuilder MapVmCloudInitEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapGet("/{id:guid}/cloud-init", GetAsync).WithName("GetVmCloudInit")
            .WithSummary("The VM's cloud-init settings (the password only as passwordSet)")
            .RequirePrivilege(Privileges.VmAudit)
            .Produces<VmCloudInitResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        vms.MapPut("/{id:guid}/cloud-init", PutAsync).WithName("SetVmCloudInit")
            .WithSummary("Set the VM's cloud-init settings: hostname, userName, password (null keeps it, \"\" removes it), sshAuthorizedKeys, packages, userData, enabled, networks (per NIC position: mode dhcp or static with ipv4Address/prefix, ipv4Gateway, dnsServers, ipv6Address, ipv6Gateway; left out keeps them)")
            .RequirePrivilege(Privileges.VmConfig, AuditActions.CloudInitUpdate)
            .Produces<VmCloudInitResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return vms;
    }

    private static async Task<IResult> GetAsync(Guid id, VmService vms, CancellationToken cancellationToken)
    {
        var vm = await vms.FindAsync(id, cancellationToken);
        return vm is null
            ? ApiResults.Problem(ServiceResult.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted."))
            : TypedResults.Ok(VmCloudInitResponse.From(vm, vm.CloudInit));
    }

    private static async Task<IResult> PutAsync(Guid id, CloudInitInput request, CloudInitService cloudInit, VmService vms, CancellationToken cancellationToken)
    {
        var result = await cloudInit.SaveAsync(id, request, cancellationToken);
        if (!result.Succeeded)
        {
            return result.Status == ServiceStatus.Invalid
                ? TypedResults.ValidationProblem(result.Errors.ToDictionary(), title: "The cloud-init settings have invalid values.")
                : ApiResults.Problem(result);
        }

        var vm = await vms.FindAsync(id, cancellationToken);
        return TypedResults.Ok(VmCloudInitResponse.From(vm!, vm!.CloudInit));
    }
}
