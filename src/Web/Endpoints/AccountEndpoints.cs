using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Antiforgery;
using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.Web.Endpoints;

/// <summary>Sign-out: a POST with the antiforgery token (from the menu's form), so no link or image can sign anyone out.</summary>
internal static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/account/logout", async (SignInManager<PlatformUser> signIn, IAuditLog audit, HttpContext http) =>
            {
                if (http.User.Identity?.IsAuthenticated == true)
                {
                    await audit.AddAsync(AuditActor.From(http), AuditActions.SignOut, AuditResult.Succeeded);
                    await signIn.SignOutAsync();
                }

                return TypedResults.LocalRedirect("~/account/login");
            })
            .WithMetadata(new RequireAntiforgeryTokenAttribute())
            .ExcludeFromDescription();
        return app;
    }
}
