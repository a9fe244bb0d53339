using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>
/// <c>Authorization: Bearer plt_…</c> on <c>/api/v1</c>. No header: no result (the cookie may still sign the request
/// in); a header with a bad token: a failure, answered 401 with <c>WWW-Authenticate: Bearer</c> and written to the
/// audit log (its first characters only), like a failed sign-in.
/// </summary>
internal sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokenService tokens, IAuditLog audit)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>How much of a refused token the audit log keeps: the prefix the tokens page shows, no more.</summary>
    private const int LoggedLength = 10;

    public const string SchemeName = "ApiToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        string secret = header["Bearer ".Length..].Trim();
        var principal = await tokens.AuthenticateAsync(secret, Scheme.Name, Context.RequestAborted);
        if (principal is null)
        {
            string shown = secret.Length > LoggedLength ? secret[..LoggedLength] + "…" : secret;
            await audit.AddAsync(new AuditActor(null, null, Context.Connection.RemoteIpAddress?.ToString()), AuditActions.ApiAuthenticate,
                AuditResult.Denied, detail: $"token {shown}: unknown, revoked or expired, or its user is disabled ({Request.Method} {Request.Path})");
            return AuthenticateResult.Fail("The API token is unknown, revoked or expired, or its user is disabled.");
        }

        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Endpoints.ApiProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized);
    }
}
