namespace Platform.Web.Endpoints;

/// <summary>
/// The REST API under <c>/api/v1</c>. Every resource group hangs off the one group made here, so authorization
/// (issue 7) is added in one place: <c>api.RequireAuthorization(...)</c> below, or per group in its Map method.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/api/v1";

    public static RouteGroupBuilder MapPlatformApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix)
            .ProducesProblem(StatusCodes.Status500InternalServerError);
        // Authentication comes with issue 7: attach the policy here (api.RequireAuthorization("...")).

        api.MapGroup("/vms").WithTags("VMs").MapVmEndpoints().MapVmPowerEndpoints().MapVmEventEndpoints();
        api.MapGroup("/images").WithTags("Images").MapImageEndpoints();
        api.MapGroup("/events").WithTags("Events").MapEventEndpoints();
        api.MapGroup("/host").WithTags("Host").MapHostEndpoints();
        return api;
    }
}
