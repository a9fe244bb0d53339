using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.Web.Endpoints;

public sealed record AuditEntryResponse(
    long Id, DateTimeOffset At, string? UserName, string? RemoteAddress, string Action, Guid? VmId, string? Target, AuditResult Result, string? Detail)
{
    public static AuditEntryResponse From(AuditEntry e) => new(e.Id, e.At, e.UserName, e.RemoteAddress, e.Action, e.VmId, e.Target, e.Result, e.Detail);
}

public sealed record AuditPageResponse(IReadOnlyList<AuditEntryResponse> Items, int Total);

/// <summary>An API token as its owner sees it later: never the secret.</summary>
public sealed record ApiTokenResponse(
    Guid Id, string Name, string Prefix, IReadOnlyList<string> Privileges, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public static ApiTokenResponse From(ApiToken t) => new(
        t.Id, t.Name, t.Prefix, PrivilegeNames.Split(t.Privileges).Select(PrivilegeNames.Name).ToList(), t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt);
}

/// <summary>A token just made: <see cref="Token"/> is shown this once.</summary>
public sealed record CreatedApiTokenResponse(ApiTokenResponse Info, string Token);

/// <summary>Asks for a token: <c>privileges</c> by name (<c>VM.Audit</c>…), at most the caller's own.</summary>
public sealed record CreateApiTokenRequest(string Name, IReadOnlyList<string> Privileges, DateTimeOffset? ExpiresAt);

/// <summary>Who the caller is and what they may do on <c>/</c> and anywhere.</summary>
public sealed record MeResponse(string UserName, bool ApiToken, IReadOnlyList<string> RootPrivileges, IReadOnlyList<string> PrivilegesSomewhere);

/// <summary>A console ticket: redeem it within <see cref="ExpiresInSeconds"/> by opening the WebSocket at <see cref="Url"/>.</summary>
public sealed record ConsoleTicketResponse(string Ticket, string Url, int ExpiresInSeconds);

/// <summary>The audit log (read-only), the caller's API tokens, who the caller is, and console tickets.</summary>
internal static class SecurityEndpoints
{
    public static RouteGroupBuilder MapAuditEndpoints(this RouteGroupBuilder audit)
    {
        audit.MapGet("/", async (IAuditLog log, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken,
                string? user, string? action, Guid? vmId, AuditResult? result, DateTimeOffset? from, DateTimeOffset? to, int skip = 0, int take = 50) =>
            {
                // A VM the reader may not see is "no such VM" here too, and its entries are left out.
                var visibility = (await permissions.GetAccessAsync(http.User, cancellationToken)).Visibility;
                if (vmId is { } id && !visibility.CanSee(id))
                {
                    return ApiResults.NotFound("VM");
                }

                var page = await log.ListAsync(new AuditQuery
                {
                    UserName = user, Action = action, VmId = vmId, Result = result, From = from, To = to, Visibility = visibility, Skip = skip, Take = take,
                }, cancellationToken);
                return TypedResults.Ok(new AuditPageResponse(page.Items.Select(AuditEntryResponse.From).ToList(), page.Total));
            })
            .WithName("ListAudit")
            .WithSummary("The audit log, newest first, filtered by user (contains), action (prefix), VM, result and time (Sys.Audit; entries of VMs you may not see left out)")
            .Produces<AuditPageResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequirePrivilege(Privileges.SysAudit);
        return audit;
    }

    public static RouteGroupBuilder MapTokenEndpoints(this RouteGroupBuilder tokens)
    {
        tokens.MapGet("/", async (ApiTokenService service, HttpContext http, CancellationToken cancellationToken) =>
                TypedResults.Ok((await service.ListAsync(http.User.UserId()!, cancellationToken)).Select(ApiTokenResponse.From).ToList()))
            .WithName("ListTokens").WithSummary("Your API tokens (never their secrets)")
            .RequireSignedIn();
        tokens.MapPost("/", CreateTokenAsync)
            .WithName("CreateToken").WithSummary("Make an API token with some of your privileges; its text is in this answer only")
            .Produces<CreatedApiTokenResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .RequireSignedIn(AuditActions.TokenCreate);
        tokens.MapDelete("/{tokenId:guid}", async (Guid tokenId, ApiTokenService service, HttpContext http, CancellationToken cancellationToken) =>
            {
                var result = await service.RevokeAsync(tokenId, http.User.UserId(), cancellationToken);
                return result.Succeeded ? Results.NoContent() : ApiResults.Problem(result);
            })
            .WithName("RevokeToken").WithSummary("Revoke one of your API tokens")
            .RequireSignedIn(AuditActions.TokenRevoke);
        return tokens;
    }

    public static RouteGroupBuilder MapMeEndpoints(this RouteGroupBuilder me)
    {
        me.MapGet("/", async (IPermissionService permissions, HttpContext http, CancellationToken cancellationToken) =>
            {
                var access = await permissions.GetAccessAsync(http.User, cancellationToken);
                return TypedResults.Ok(new MeResponse(http.User.Identity?.Name ?? "", http.User.IsApiToken(),
                    PrivilegeNames.Split(access.Root).Select(PrivilegeNames.Name).ToList(),
                    PrivilegeNames.Split(access.Anywhere).Select(PrivilegeNames.Name).ToList()));
            })
            .WithName("GetMe").WithSummary("Who you are and what you may do")
            .RequireSignedIn();
        return me;
    }

    public static RouteGroupBuilder MapConsoleTicketEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapPost("/{id:guid}/console/{kind}/ticket", (Guid id, string kind, ConsoleTickets tickets, HttpContext http) =>
            {
                if (!Enum.TryParse<ConsoleKind>(kind, ignoreCase: true, out var consoleKind) || !Enum.IsDefined(consoleKind))
                {
                    return ApiResults.BadRequest("The console is serial or vnc.");
                }

                if (http.User.IsApiToken())
                {
                    // The WebSocket needs the browser's session anyway; a token has no business asking.
                    return TypedResults.Problem("Console tickets are for the dashboard's pages, not API tokens.",
                        statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
                }

                string ticket = tickets.Issue(http.User.UserId()!, id, consoleKind);
                return TypedResults.Ok(new ConsoleTicketResponse(ticket, ConsoleTickets.WebSocketPath(id, consoleKind, ticket),
                    (int)tickets.Lifetime.TotalSeconds));
            })
            .WithName("CreateConsoleTicket")
            .WithSummary("A single-use ticket (about 30 s) for the VM's serial or vnc console WebSocket; browser session and antiforgery token only (VM.Console)")
            .Produces<ConsoleTicketResponse>()
            .RequirePrivilege(Privileges.VmConsole, AuditActions.ConsoleTicket);
        return vms;
    }

    private static async Task<IResult> CreateTokenAsync(CreateApiTokenRequest request, ApiTokenService service, HttpContext http, CancellationToken cancellationToken)
    {
        if (!PrivilegeNames.TryParse(request.Privileges ?? [], out var privileges))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["privileges"] = [$"Privileges are named {string.Join(", ", PrivilegeNames.Each.Select(PrivilegeNames.Name))}."],
            });
        }

        // A token cannot make a token with more than itself.
        if (http.User.FindFirst(PlatformClaims.TokenScope)?.Value is { } scope
            && int.TryParse(scope, System.Globalization.CultureInfo.InvariantCulture, out int mask) && (privileges & ~(Privileges)mask) != 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["privileges"] = [$"This token does not have {PrivilegeNames.Format(privileges & ~(Privileges)mask)}, so a token it makes cannot."],
            });
        }

        var result = await service.CreateAsync(http.User.UserId()!, request.Name, privileges, request.ExpiresAt, cancellationToken);
        if (!result.Succeeded)
        {
            return ApiResults.Problem(result);
        }

        return TypedResults.Created($"{ApiEndpoints.Prefix}/tokens/{result.Value!.Token.Id}",
            new CreatedApiTokenResponse(ApiTokenResponse.From(result.Value.Token), result.Value.Secret));
    }
}
