using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Hubs;
using Platform.Web.Security;

namespace Platform.Web.Tests.Infrastructure;

/// <summary>
/// Users for tests of the real app: the first administrator comes from configuration (as an operator would set it),
/// others are made with grants through the real services; clients sign in through the real sign-in form (cookie)
/// or carry a real API token.
/// </summary>
public static partial class TestAccounts
{
    public const string AdminName = "admin";
    public const string AdminPassword = "admin-password-for-tests";
    public const string Password = "user-password-for-tests";

    /// <summary>The first administrator's settings, and quick revalidation so revocation tests finish fast.</summary>
    public static void Configure(IWebHostBuilder builder)
    {
        builder.UseSetting("Platform:Admin:UserName", AdminName);
        builder.UseSetting("Platform:Admin:Password", AdminPassword);
        builder.UseSetting("Platform:Security:RevalidationInterval", "00:00:01");
        // Every test signs in from the same (absent) address; the rate limit has tests of its own.
        builder.UseSetting("Platform:Security:SignInAttemptsPerWindow", "100000");
        builder.UseSetting("Platform:Security:AccessRecheckInterval", "00:00:00.500");
    }

    public static async Task<string> AdminIdAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PlatformUser>>();
        return (await users.FindByNameAsync(AdminName))!.Id;
    }

    /// <summary>Makes a user with <see cref="Password"/> and the given grants (a null VM is <c>/</c>).</summary>
    public static async Task<string> CreateUserAsync(IServiceProvider services, string name, params (Guid RoleId, Guid? VmId)[] grants)
    {
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PlatformUser>>();
        var user = new PlatformUser { UserName = name };
        var result = await users.CreateAsync(user, Password);
        result.Succeeded.Should().BeTrue(string.Join(" ", result.Errors.Select(e => e.Description)));
        await GrantAsync(services, user.Id, grants);
        return user.Id;
    }

    public static async Task GrantAsync(IServiceProvider services, string userId, params (Guid RoleId, Guid? VmId)[] grants)
    {
        var factory = services.GetRequiredService<IDbContextFactory<PlatformDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            foreach (var (roleId, vmId) in grants)
            {
                db.AccessGrants.Add(new AccessGrant { UserId = userId, RoleId = roleId, VmId = vmId });
            }

            await db.SaveChangesAsync();
        }

        services.GetRequiredService<IPermissionService>().Invalidate();
    }

    public static async Task RevokeAllAsync(IServiceProvider services, string userId)
    {
        var factory = services.GetRequiredService<IDbContextFactory<PlatformDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            await db.AccessGrants.Where(g => g.UserId == userId).ExecuteDeleteAsync();
        }

        services.GetRequiredService<IPermissionService>().Invalidate();
    }

    /// <summary>
    /// An API token of the first administrator, written straight into the database of <paramref name="dataDirectory"/>
    /// (as the token service would), so making it starts no app: a factory's <c>WithWebHostBuilder</c> copies share the
    /// database, and asking the original for its services would start a second dashboard beside the copy.
    /// </summary>
    public static string CreateAdminToken(string dataDirectory)
    {
        var options = new DbContextOptionsBuilder<PlatformDbContext>()
            .UseSqlite($"Data Source={Path.Combine(dataDirectory, "platform.db")};Pooling=False").Options;
        using var db = new PlatformDbContext(options);
        string adminId = db.Users.Single(u => u.UserName == AdminName).Id;
        string secret = ApiTokenService.TokenPrefix + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        db.ApiTokens.Add(new ApiToken
        {
            UserId = adminId, Name = "tests", Hash = ApiTokenService.Hash(secret), Prefix = secret[..10], Privileges = Privileges.All,
        });
        db.SaveChanges();
        return secret;
    }

    /// <summary>A real API token of <paramref name="userId"/>.</summary>
    public static async Task<string> CreateTokenAsync(IServiceProvider services, string userId, Privileges scope = Privileges.All, DateTimeOffset? expiresAt = null)
    {
        var tokens = services.GetRequiredService<ApiTokenService>();
        var access = await services.GetRequiredService<IPermissionService>().GetAccessAsync(userId);
        var result = await tokens.CreateAsync(userId, "tests", scope & access.Anywhere, expiresAt, CancellationToken.None);
        result.Succeeded.Should().BeTrue(result.Message);
        return result.Value!.Secret;
    }

    public static HttpClient WithToken(this HttpClient client, string token)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A client with no credentials at all, keeping cookies, not following redirects.</summary>
    public static (HttpClient Client, CookieContainer Cookies) CreateBrowser<TEntry>(WebApplicationFactory<TEntry> factory)
        where TEntry : class
    {
        var cookies = new CookieContainer();
        var client = factory.CreateDefaultClient(new CookieContainerHandler(cookies));
        client.DefaultRequestHeaders.Authorization = null;
        return (client, cookies);
    }

    /// <summary>Signs in through the sign-in form; returns the answer to the form's POST.</summary>
    public static async Task<HttpResponseMessage> PostSignInAsync(HttpClient browser, string name, string password)
    {
        var form = await browser.GetStringAsync("/account/login");
        var fields = new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = AntiforgeryToken(form),
            ["Input.UserName"] = name,
            ["Input.Password"] = password,
        };
        return await browser.PostAsync("/account/login", new FormUrlEncodedContent(fields));
    }

    /// <summary>
    /// Changes the signed-in browser's password through the change-password form; the form must say it did, or, when
    /// the change was <paramref name="forced"/> (a password someone else chose), send the user on to the dashboard.
    /// </summary>
    public static async Task PostChangePasswordAsync(HttpClient browser, string current, string next, bool forced = false)
    {
        var form = await browser.GetStringAsync("/account/password");
        var fields = new Dictionary<string, string>
        {
            ["_handler"] = "change-password",
            ["__RequestVerificationToken"] = AntiforgeryToken(form),
            ["Input.CurrentPassword"] = current,
            ["Input.NewPassword"] = next,
            ["Input.ConfirmPassword"] = next,
        };
        var response = await browser.PostAsync("/account/password", new FormUrlEncodedContent(fields));
        if (forced)
        {
            response.StatusCode.Should().Be(HttpStatusCode.Redirect, "after the forced change the user goes on");
            response.Headers.Location!.ToString().Should().EndWith("/vms");
            return;
        }

        string page = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.Should().BeTrue(page);
        page.Should().Contain("Your password is changed", "the form says it worked");
    }

    /// <summary>A browser signed in as <paramref name="name"/>, and the Cookie header it sends (for WebSockets and hubs).</summary>
    public static async Task<(HttpClient Client, string Cookie)> SignInAsync<TEntry>(WebApplicationFactory<TEntry> factory, string name, string password = Password)
        where TEntry : class
    {
        var (client, cookies) = CreateBrowser(factory);
        var response = await PostSignInAsync(client, name, password);
        response.StatusCode.Should().Be(HttpStatusCode.Redirect, "a correct password signs in and redirects");
        string cookie = cookies.GetCookieHeader(factory.Server.BaseAddress);
        cookie.Should().Contain("platform.session");
        return (client, cookie);
    }

    /// <summary>A connection to the VM hub that sends the browser session's <paramref name="cookie"/> (none: anonymous);
    /// not started.</summary>
    public static HubConnection VmHubConnection<TEntry>(WebApplicationFactory<TEntry> factory, string? cookie)
        where TEntry : class =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(factory.Server.BaseAddress, VmHub.Path.TrimStart('/')), o =>
            {
                o.HttpMessageHandlerFactory = _ => factory.Server.CreateHandler();
                if (cookie is not null)
                {
                    o.Headers["Cookie"] = cookie;
                }
            })
            .Build();

    /// <summary>A WebSocket client sending the browser session's cookie (and an Origin, when given).</summary>
    public static WebSocketClient ConsoleClient<TEntry>(WebApplicationFactory<TEntry> factory, string cookie, string? origin = null)
        where TEntry : class
    {
        var client = factory.Server.CreateWebSocketClient();
        client.ConfigureRequest = request =>
        {
            request.Headers.Cookie = cookie;
            if (origin is not null)
            {
                request.Headers.Origin = origin;
            }
        };
        return client;
    }

    /// <summary>The console WebSocket's address with a fresh ticket for <paramref name="userId"/>.</summary>
    public static Uri ConsoleUri<TEntry>(WebApplicationFactory<TEntry> factory, string userId, Guid vmId, ConsoleKind kind)
        where TEntry : class
    {
        string ticket = factory.Services.GetRequiredService<ConsoleTickets>().Issue(userId, vmId, kind);
        return new Uri(factory.Server.BaseAddress, ConsoleTickets.WebSocketPath(vmId, kind, ticket).TrimStart('/'));
    }

    /// <summary>The antiforgery token of the first form in <paramref name="html"/>.</summary>
    public static string AntiforgeryToken(string html) =>
        TokenInput().Match(html) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException("The page has no antiforgery token.");

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenInput();
}
