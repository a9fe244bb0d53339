using Microsoft.AspNetCore.Authorization;
using Platform.Web.Extensions;
using Platform.Web.Security;

namespace Platform.Web.Endpoints;

/// <summary>
/// The REST API under <c>/api/v1</c>. Every resource group hangs off the one group made here, which signs the caller
/// in (an API token as <c>Authorization: Bearer</c>, or the browser's session) and runs
/// <see cref="ApiAuthorizationFilter"/> before every handler: each endpoint declares its privilege with
/// <c>RequirePrivilege</c> (or <c>RequireSignedIn</c> and filters what it returns), and one that does not is refused.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/api/v1";

    public static RouteGroupBuilder MapPlatformApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix)
            .RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = SecurityServiceExtensions.ApiScheme })
            .AddEndpointFilter<ApiAuthorizationFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        api.MapGroup("/vms").WithTags("VMs").MapVmEndpoints().MapVmPowerEndpoints().MapVmEventEndpoints().MapConsoleTicketEndpoints().MapVmInterfaceEndpoints()
            .MapVmDiskEndpoints().MapVmSnapshotEndpoints().MapVmCloudInitEndpoints().MapVmCloneEndpoints().MapVmCdromEndpoints().MapVmNicEndpoints()
            .MapVmHistoryEndpoints();
        api.MapGroup("/networks").WithTags("Networks").MapNetworkEndpoints();
        api.MapGroup("/images").WithTags("Images").MapImageEndpoints();
        api.MapGroup("/events").WithTags("Events").MapEventEndpoints();
        api.MapGroup("/tasks").WithTags("Tasks").MapTaskEndpoints();
        api.MapGroup("/host").WithTags("Host").MapHostEndpoints().MapHostHistoryEndpoints();
        api.MapGroup("/hosts").WithTags("Host").MapHostsEndpoints();
        api.MapGroup("/audit").WithTags("Audit log").MapAuditEndpoints();
        api.MapGroup("/tokens").WithTags("API tokens").MapTokenEndpoints();
        api.MapGroup("/me").WithTags("API tokens").MapMeEndpoints();
        api.MapGroup("/users").WithTags("Users and permissions").MapUserEndpoints();
        api.MapGroup("/groups").WithTags("Users and permissions").MapGroupEndpoints();
        api.MapGroup("/roles").WithTags("Users and permissions").MapRoleEndpoints();
        api.MapGroup("/grants").WithTags("Users and permissions").MapGrantEndpoints();
        api.MapGroup("/quotas").WithTags("Users and permissions").MapQuotaEndpoints();
        return api;
    }
}
