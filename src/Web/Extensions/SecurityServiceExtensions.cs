using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;

namespace Platform.Web.Extensions;

public static class SecurityServiceExtensions
{
    /// <summary>The sign-in rate limiter's policy name; the sign-in pages carry it.</summary>
    public const string SignInRateLimit = "sign-in";

    /// <summary>The authentication scheme of <c>/api/v1</c>: a bearer token when the request has one, else the cookie.</summary>
    public const string ApiScheme = "Api";

    /// <summary>
    /// Identity on the dashboard's database with cookie sign-in, lockout, password policy and two-factor tokens; API
    /// tokens; privileges and grants (<see cref="IPermissionService"/>); the audit log; the sign-in rate limit.
    /// </summary>
    public static void AddPlatformSecurity(this WebApplicationBuilder builder)
    {
        var security = builder.Configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>() ?? new SecurityOptions();
        var admin = builder.Configuration.GetSection(AdminOptions.Section).Get<AdminOptions>() ?? new AdminOptions();
        var services = builder.Services;
        services.AddSingleton(security);
        services.AddSingleton(admin);
        services.AddSingleton(TimeProvider.System);
        services.AddHttpContextAccessor();

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = IdentityConstants.ApplicationScheme;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null)
            .AddPolicyScheme(ApiScheme, "API token or browser session", options => options.ForwardDefaultSelector = http =>
                http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? ApiTokenAuthenticationHandler.SchemeName
                    : IdentityConstants.ApplicationScheme)
            .AddIdentityCookies();

        services.AddIdentityCore<PlatformUser>(options =>
            {
                options.SignIn.RequireConfirmedAccount = false;
                options.User.RequireUniqueEmail = false;
                options.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._@+";
                options.Password.RequiredLength = security.PasswordMinLength;
                options.Password.RequiredUniqueChars = security.PasswordUniqueChars;
                // Length over composition rules (NIST SP 800-63B): no forced digits or symbols.
                options.Password.RequireDigit = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireNonAlphanumeric = false;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = security.MaxFailedSignIns;
                options.Lockout.DefaultLockoutTimeSpan = security.LockoutDuration;
            })
            .AddEntityFrameworkStores<PlatformDbContext>()
            .AddSignInManager<PlatformSignInManager>()
            .AddClaimsPrincipalFactory<PlatformClaimsFactory>()
            .AddDefaultTokenProviders();

        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.Cookie.Name = "platform.session";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.LoginPath = "/account/login";
            cookie.LogoutPath = "/account/logout";
            cookie.AccessDeniedPath = "/account/denied";
            cookie.ExpireTimeSpan = security.SessionLifetime;
            cookie.SlidingExpiration = true;
            // The API and the hubs answer with a status, not a redirect to a page.
            cookie.Events.OnRedirectToLogin = context => StatusOrRedirect(context, StatusCodes.Status401Unauthorized);
            cookie.Events.OnRedirectToAccessDenied = context => StatusOrRedirect(context, StatusCodes.Status403Forbidden);
            // The security stamp check replaces the principal with a fresh one, which lacks the session's key: keep it,
            // so a page or hub that starts on this request can still tell when its session is signed out.
            var validateStamp = cookie.Events.OnValidatePrincipal;
            cookie.Events.OnValidatePrincipal = async context =>
            {
                string? key = context.Principal?.FindFirst(SignInSessions.KeyClaim)?.Value;
                await validateStamp(context);
                if (key is not null && context.Principal?.Identity is System.Security.Claims.ClaimsIdentity identity && !identity.HasClaim(c => c.Type == SignInSessions.KeyClaim))
                {
                    identity.AddClaim(new System.Security.Claims.Claim(SignInSessions.KeyClaim, key));
                }
            };
        });
        services.ConfigureExternalCookie(cookie => cookie.Cookie.SameSite = SameSiteMode.Strict);
        foreach (string scheme in new[] { IdentityConstants.TwoFactorUserIdScheme, IdentityConstants.TwoFactorRememberMeScheme })
        {
            services.Configure<CookieAuthenticationOptions>(scheme, cookie =>
            {
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.HttpOnly = true;
            });
        }

        // Sessions live on the server (SignInSessions): the cookie names one, and sign-out ends it for every copy.
        services.AddSingleton<SignInSessions>();
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<SignInSessions>((cookie, sessions) => cookie.SessionStore = sessions);
        services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = security.RevalidationInterval);
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "platform.antiforgery";
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.HttpOnly = true;
            // Antiforgery's default is never Secure; like the session cookie, it is Secure whenever the page is HTTPS.
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });

        services.AddAuthorization();
        services.AddSingleton<IAuthorizationPolicyProvider, PrivilegePolicyProvider>();
        services.AddScoped<IAuthorizationHandler, RootPrivilegeHandler>();
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingAuthenticationState>();

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // Only the sign-in form's POSTs count, per client address; showing the form is free.
            options.AddPolicy(SignInRateLimit, http => HttpMethods.IsPost(http.Request.Method)
                ? RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = security.SignInAttemptsPerWindow,
                    Window = security.SignInWindow,
                    QueueLimit = 0,
                })
                : RateLimitPartition.GetNoLimiter("show"));
            options.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                await http.RequestServices.GetRequiredService<IAuditLog>().AddAsync(
                    AuditActor.From(http), AuditActions.SignIn, AuditResult.Denied, detail: "too many sign-in attempts from this address");
                http.Response.ContentType = "text/plain; charset=utf-8";
                await http.Response.WriteAsync("Too many sign-in attempts from this address. Wait a minute and try again.", cancellationToken);
            };
        });

        services.AddSingleton<IPermissionService, PermissionService>();
        services.AddSingleton<IAuditLog, AuditLog>();
        services.AddSingleton<ApiTokenService>();
        services.AddScoped<AdminBootstrap>();
        services.TryAddSingleton(new FirstAdminConsole(Console.Out));
        services.AddScoped<CurrentUser>();
        services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, TaskActorCircuitHandler>();
        services.AddScoped<AccessAdministration>();
        services.AddScoped<ApiAuthorizationFilter>();
        services.AddSingleton<ConsoleTickets>();
        services.AddSingleton<AccessWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<AccessWatcher>());
        services.AddSingleton<HubAudience>();
        services.AddSingleton<HubAuthorizationFilter>();
        services.Configure<HubOptions>(hubs => hubs.AddFilter<HubAuthorizationFilter>());
    }

    /// <summary>
    /// Origin checks on WebSockets, authentication, authorization and the rate limiter. The security headers come
    /// earlier (<see cref="WebApplicationExtensions.UsePlatformPipeline"/>), so static files carry them too.
    /// </summary>
    public static void UsePlatformSecurity(this WebApplication app)
    {
        app.UseMiddleware<WebSocketOriginMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<MustChangePasswordMiddleware>();
        app.UseRateLimiter();
    }

    /// <summary>
    /// Creates the first administrator if the database has no user (see <see cref="AdminBootstrap"/>), then gives
    /// ownerless VMs an owner (<see cref="Platform.Web.Services.Quotas.OwnerlessVms"/>).
    /// </summary>
    public static async Task EnsureAdministratorAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AdminBootstrap>().EnsureAdministratorAsync(app.Lifetime.ApplicationStopping);
        // With an administrator there: VMs made before quotas get an owner, so they count against one.
        await scope.ServiceProvider.GetRequiredService<Platform.Web.Services.Quotas.OwnerlessVms>().AssignAsync(app.Lifetime.ApplicationStopping);
    }

    private static Task StatusOrRedirect(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments(ApiEndpoints.Prefix) || path.StartsWithSegments("/hubs") || context.HttpContext.WebSockets.IsWebSocketRequest)
        {
            // A status for a script, not the not-found page the pages' status-code handling would put in its place.
            if (context.HttpContext.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodePagesFeature>() is { } pages)
            {
                pages.Enabled = false;
            }

            context.Response.StatusCode = status;
            return path.StartsWithSegments(ApiEndpoints.Prefix) ? ApiProblems.WriteAsync(context.HttpContext, status) : Task.CompletedTask;
        }

        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
