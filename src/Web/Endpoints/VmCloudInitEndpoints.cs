using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>
/// A VM's cloud-init settings as <c>GET /api/v1/vms/{id}/cloud-init</c> shows them: the password only as whether one is
/// set (it is stored hashed and never shown), the host name the guest gets, and whether any are configured at all.
/// </summary>
public sealed record VmCloudInitResponse(
    bool Configured, bool Enabled, string? Hostname, string EffectiveHostname, string UserName, bool PasswordSet,
    string? SshAuthorizedKeys, string? Packages, string? UserData, string SeedDisk)
{
    public static VmCloudInitResponse From(VirtualMachine vm, VmCloudInit? settings) => settings is null
        ? new(false, false, null, CloudInitRules.HostnameFor(vm.Name), "debian", false, null, null, null, SeedDiskText)
        : new(true, settings.Enabled, settings.Hostname, settings.Hostname ?? CloudInitRules.HostnameFor(vm.Name), settings.UserName,
            settings.PasswordHash is not null, settings.SshAuthorizedKeys, settings.Packages, settings.UserData, SeedDiskText);

    private const string SeedDiskText = "an ISO 9660 volume labelled cidata, the VM's last disk, read-only";
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
            .WithSummary("Set the VM's cloud-init settings: hostname, userName, password (null keeps it, \"\" removes it), sshAuthorizedKeys, packages, userData, enabled")
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
