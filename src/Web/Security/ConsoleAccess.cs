using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>
/// Secures a console WebSocket endpoint with one call: <c>app.Map("/vms/{id:guid}/vnc", …).RequireConsoleAccess(ConsoleKind.Vnc)</c>.
/// The request must carry the browser session's cookie (API tokens are not accepted), a ticket from
/// <see cref="ConsoleTickets"/> issued to that user for that VM and console, and VM.Console on the VM (checked
/// again at connect time); the WebSocket Origin is checked by <see cref="WebSocketOriginMiddleware"/>. While the
/// console is open, a revoked grant or a disabled user aborts the connection within
/// <see cref="SecurityOptions.AccessRecheckInterval"/>. Opening, refusals and revocations go to the audit log.
/// </summary>
public static class ConsoleAccessExtensions
{
    public static RouteHandlerBuilder RequireConsoleAccess(this RouteHandlerBuilder builder, ConsoleKind kind)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = IdentityConstants.ApplicationScheme })
            .AddEndpointFilter((context, next) => ConsoleAccessFilter.InvokeAsync(context, next, kind));
    }
}

internal static class ConsoleAccessFilter
{
    public static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, ConsoleKind kind)
    {
        var http = context.HttpContext;
        if (!http.WebSockets.IsWebSocketRequest)
        {
            return await next(context); // the bridge answers 400 itself; nothing opens without a WebSocket
        }

        var services = http.RequestServices;
        var permissions = services.GetRequiredService<IPermissionService>();
        var audit = services.GetRequiredService<IAuditLog>();
        var actor = AuditActor.From(http);
        if (!Guid.TryParse(http.Request.RouteValues["id"]?.ToString(), out var vmId))
        {
            return Results.NotFound();
        }

        var access = await permissions.GetAccessAsync(http.User, http.RequestAborted);
        string target = $"{kind.ToString().ToLowerInvariant()} console";
        if (!access.CanSee(vmId))
        {
            await audit.AddAsync(actor, AuditActions.ConsoleOpen, AuditResult.Denied, vmId, target, "VM not visible (answered 404)");
            return Results.Problem("There is no VM with that id.", statusCode: StatusCodes.Status404NotFound);
        }

        if (!access.Has(Privileges.VmConsole, vmId))
        {
            await audit.AddAsync(actor, AuditActions.ConsoleOpen, AuditResult.Denied, vmId, target, "needs VM.Console");
            return Results.Problem("You need VM.Console on this VM.", statusCode: StatusCodes.Status403Forbidden);
        }

        var tickets = services.GetRequiredService<ConsoleTickets>();
        if (!tickets.TryRedeem(http.Request.Query["ticket"], access.UserId!, vmId, kind))
        {
            await audit.AddAsync(actor, AuditActions.ConsoleOpen, AuditResult.Denied, vmId, target, "no valid ticket");
            return Results.Problem("Open the console from its page: the link needs a fresh ticket.", statusCode: StatusCodes.Status403Forbidden);
        }

        await audit.AddAsync(actor, AuditActions.ConsoleOpen, AuditResult.Succeeded, vmId, target);
        int revoked = 0;
        using var watch = services.GetRequiredService<AccessWatcher>().Watch(http.User, Privileges.VmConsole, vmId, () =>
        {
            Interlocked.Exchange(ref revoked, 1);
            http.Abort();
        });
        try
        {
            return await next(context);
        }
        finally
        {
            if (Volatile.Read(ref revoked) == 1)
            {
                await audit.AddAsync(actor, AuditActions.ConsoleClosed, AuditResult.Denied, vmId, target, "access revoked while open");
            }
        }
    }
}
