using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.Web.Endpoints;

/// <summary>
/// Sign-out, and sign-out everywhere: POSTs with the antiforgery token (from the menu's and the account page's forms),
/// so no link, image or other site's form can sign anyone out.
/// </summary>
internal static class AccountEndpoints
{
    public const string SignOutPath = "/account/logout";
    public const string SignOutEverywherePath = "/account/logout-everywhere";

    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(SignOutPath, async Task<IResult> (SignInManager<PlatformUser> signIn, IAuditLog audit, IAntiforgery antiforgery, HttpContext http) =>
            {
                if (!await CameFromOurPageAsync(http, antiforgery))
                {
                    return ForgedRequest();
                }

                if (http.User.Identity?.IsAuthenticated == true)
                {
                    await audit.AddAsync(AuditActor.From(http), AuditActions.SignOut, AuditResult.Succeeded);
                    // The cookie handler deletes this session's record (SignInSessions): a copy of the cookie ends too.
                    await signIn.SignOutAsync();
                }

                return TypedResults.LocalRedirect("~/account/login");
            })
            .WithMetadata(new RequireAntiforgeryTokenAttribute())
            .ExcludeFromDescription();

        app.MapPost(SignOutEverywherePath, async Task<IResult> (SignInManager<PlatformUser> signIn, UserManager<PlatformUser> users, SignInSessions sessions,
                IAuditLog audit, IAntiforgery antiforgery, HttpContext http) =>
            {
                if (!await CameFromOurPageAsync(http, antiforgery))
                {
                    return ForgedRequest();
                }

                if (await users.GetUserAsync(http.User) is { } user)
                {
                    // Every session record goes at once; the new stamp also ends what was signed in before records existed.
                    int ended = await sessions.EndAllAsync(user.Id);
                    await users.UpdateSecurityStampAsync(user);
                    await audit.AddAsync(AuditActor.From(http), AuditActions.SignOut, AuditResult.Succeeded, detail: $"everywhere ({ended} sessions)");
                    await signIn.SignOutAsync();
                }

                return TypedResults.LocalRedirect("~/account/login");
            })
            .WithMetadata(new RequireAntiforgeryTokenAttribute())
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>The antiforgery middleware's verdict on the request (it checks the token before the endpoint runs).</summary>
    private static async Task<bool> CameFromOurPageAsync(HttpContext http, IAntiforgery antiforgery) =>
        http.Features.Get<IAntiforgeryValidationFeature>() is { } verdict ? verdict.IsValid : await antiforgery.IsRequestValidAsync(http);

    /// <summary>
    /// The antiforgery middleware only records a failed check (minimal APIs refuse on it when they bind a form); these
    /// endpoints bind none, so they refuse themselves.
    /// </summary>
    private static ProblemHttpResult ForgedRequest() => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest, title: "Refused",
        detail: "This request did not come from a page of this dashboard (its antiforgery token is missing or wrong). Sign out from the account menu.");
}
