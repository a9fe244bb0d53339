using Microsoft.AspNetCore.Antiforgery;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>
/// What an API endpoint needs, as endpoint metadata read by <see cref="ApiAuthorizationFilter"/>. VM privileges are
/// checked on the VM in the route's <c>{id}</c> when there is one; <see cref="Privileges.None"/> means "any signed-in
/// user" (the endpoint then filters what it returns itself).
/// </summary>
/// <param name="Privileges">All of these (or one of them with <paramref name="Any"/>).</param>
/// <param name="AuditAction">The audit log's name for the action; state-changing requests are always recorded.</param>
/// <param name="Any">One of <paramref name="Privileges"/> is enough.</param>
/// <param name="AuditedByHandler">The handler's service writes its own entry for what it changes (the filter still
/// records refusals), so one action is not logged twice.</param>
public sealed record PrivilegeRequirement(Privileges Privileges, string? AuditAction = null, bool Any = false, bool AuditedByHandler = false);

public static class PrivilegeEndpointExtensions
{
    /// <summary>
    /// Declares what the endpoint needs. Every endpoint under <c>/api/v1</c> must say (the API refuses one that does
    /// not): a VM it refers to by <c>{id}</c> that the caller may not see is 404, a missing privilege 403; each
    /// refusal and each state-changing request is written to the audit log as <paramref name="auditAction"/>.
    /// </summary>
    public static TBuilder RequirePrivilege<TBuilder>(this TBuilder builder, Privileges privileges, string? auditAction = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new PrivilegeRequirement(privileges, auditAction));

    /// <summary>Like <see cref="RequirePrivilege{TBuilder}"/>, with one of <paramref name="privileges"/> enough.</summary>
    public static TBuilder RequireAnyPrivilege<TBuilder>(this TBuilder builder, Privileges privileges, string? auditAction = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new PrivilegeRequirement(privileges, auditAction, Any: true));

    /// <summary>User.Manage on <c>/</c>, for the administration endpoints, whose service audits every change itself.</summary>
    public static TBuilder RequireUserManage<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new PrivilegeRequirement(Privileges.UserManage, AuditedByHandler: true));

    /// <summary>Any signed-in user; the endpoint decides per item (lists filtered by what the caller may see).</summary>
    public static TBuilder RequireSignedIn<TBuilder>(this TBuilder builder, string? auditAction = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new PrivilegeRequirement(Privileges.None, auditAction));
}

/// <summary>
/// The API's authorization, run before every <c>/api/v1</c> handler: checks the endpoint's
/// <see cref="PrivilegeRequirement"/> against the caller's access on the VM of the route (404 when the VM is not
/// visible to the caller, 403 for a missing privilege), asks a browser session (not a token) for its antiforgery
/// token on a state-changing request, and writes refusals and state changes to the audit log.
/// </summary>
internal sealed class ApiAuthorizationFilter(IPermissionService permissions, IAuditLog audit, IAntiforgery antiforgery) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var endpoint = http.GetEndpoint();
        var requirement = endpoint?.Metadata.GetMetadata<PrivilegeRequirement>();
        bool changes = !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method));
        string action = requirement?.AuditAction ?? $"{AuditActions.ApiRequest} {http.Request.Method} {(endpoint as RouteEndpoint)?.RoutePattern.RawText}";
        var actor = AuditActor.From(http);
        Guid? vmId = http.Request.RouteValues.TryGetValue("id", out var raw) && Guid.TryParse(raw?.ToString(), out var id)
            && requirement is not null && (requirement.Privileges & Privileges.VmScoped) != 0 ? id : null;

        if (requirement is null)
        {
            // Fail closed: an endpoint nobody declared a privilege for is a bug, not an open door.
            await audit.AddAsync(actor, action, AuditResult.Denied, detail: "the endpoint declares no privilege");
            return TypedResults.Problem("This endpoint declares no privilege, so nobody may call it.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        var access = await permissions.GetAccessAsync(http.User, http.RequestAborted);
        if (vmId is { } vm && !access.CanSee(vm))
        {
            await audit.AddAsync(actor, action, AuditResult.Denied, vm, detail: "VM not visible (answered 404)");
            return TypedResults.Problem("There is no VM with that id.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }

        bool allowed = requirement.Privileges == Privileges.None
            || (requirement.Any ? access.HasAny(requirement.Privileges, vmId) : access.Has(requirement.Privileges, vmId));
        if (!allowed)
        {
            string needed = requirement.Any ? "one of " + PrivilegeNames.Format(requirement.Privileges) : PrivilegeNames.Format(requirement.Privileges);
            await audit.AddAsync(actor, action, AuditResult.Denied, vmId, detail: $"needs {needed}");
            return TypedResults.Problem($"You need {needed}{(vmId is null ? "" : " on this VM")}.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        if (changes && !http.User.IsApiToken())
        {
            // A browser session's cookie goes along with any request a page makes, even one another site's page
            // makes: a state change must also prove it came from our own pages.
            try
            {
                await antiforgery.ValidateRequestAsync(http);
            }
            catch (AntiforgeryValidationException)
            {
                await audit.AddAsync(actor, action, AuditResult.Denied, vmId, detail: "missing or invalid antiforgery token");
                return TypedResults.Problem("Send the antiforgery token in the RequestVerificationToken header, or use an API token.",
                    statusCode: StatusCodes.Status400BadRequest, title: "Antiforgery token required");
            }
        }

        object? result;
        // The tasks the handler begins name this caller (TaskActor), as the audit entry does.
        using (Platform.Web.Services.Tasks.TaskActor.Use(actor.UserName))
        {
            result = await next(context);
        }

        if (changes && !requirement.AuditedByHandler)
        {
            int status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : http.Response.StatusCode;
            // A handler's own 403 (Image.Use, host paths) is a refusal like the filter's.
            var outcome = status switch
            {
                >= 200 and < 300 => AuditResult.Succeeded,
                StatusCodes.Status403Forbidden => AuditResult.Denied,
                _ => AuditResult.Failed,
            };
            await audit.AddAsync(actor, action, outcome,
                vmId ?? CreatedVmId(result), detail: $"{http.Request.Method} {http.Request.Path} answered {status}");
        }

        return result;
    }

    /// <summary>The VM a successful POST /vms made, from its Location, so the entry names it.</summary>
    private static Guid? CreatedVmId(object? result) =>
        result is IResult and IValueHttpResult { Value: Platform.Web.Endpoints.VmResponse vm } ? vm.Id : null;
}
