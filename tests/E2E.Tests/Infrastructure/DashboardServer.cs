using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.E2E.Tests.Infrastructure;

/// <summary>The dashboard on a real Kestrel port (so a real browser can reach it), with its own data folder and
/// a first administrator from configuration.</summary>
public sealed class DashboardServer : WebApplicationFactory<Program>
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("platform-e2e-").FullName;
    private readonly IReadOnlyDictionary<string, string> _settings;

    /// <param name="settings">Configuration on top of the test defaults, e.g. <c>Platform:SeedSample</c>.</param>
    public DashboardServer(IReadOnlyDictionary<string, string>? settings = null)
    {
        _settings = settings ?? new Dictionary<string, string>();
        UseKestrel(0);
        StartServer();
        BaseAddress = new Uri(ClientOptions.BaseAddress.GetLeftPart(UriPartial.Authority));
    }

    public const string AdminName = "admin";
    public const string AdminPassword = "admin-password-for-browser-tests";

    public Uri BaseAddress { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Platform:DataDirectory", _dataDirectory);
        builder.UseEnvironment("Development");
        builder.UseSetting("Platform:Admin:UserName", AdminName);
        builder.UseSetting("Platform:Admin:Password", AdminPassword);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>An HTTP client for the API acting as the administrator through a real API token.</summary>
    public HttpClient CreateApiClient()
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Task.Run(async () =>
        {
            var users = Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>();
            await using var db = await users.CreateDbContextAsync();
            string adminId = (await db.Users.FirstAsync(u => u.UserName == AdminName)).Id;
            var token = await Services.GetRequiredService<ApiTokenService>().CreateAsync(adminId, "e2e", Privileges.All, null, CancellationToken.None);
            return token.Value!.Secret;
        }).GetAwaiter().GetResult());
        return client;
    }

    /// <summary>Adds a user with a password of their own (no forced change) and the given grants (a null VM is /).</summary>
    public async Task<string> CreateUserAsync(string name, string password, params (Guid RoleId, Guid? VmId)[] grants)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<PlatformUser>>();
        var user = new PlatformUser { UserName = name };
        (await users.CreateAsync(user, password)).Succeeded.Should().BeTrue();
        await using var db = await Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync();
        foreach (var (roleId, vmId) in grants)
        {
            db.AccessGrants.Add(new AccessGrant { UserId = user.Id, RoleId = roleId, VmId = vmId });
        }

        await db.SaveChangesAsync();
        Services.GetRequiredService<IPermissionService>().Invalidate();
        return user.Id;
    }

    /// <summary>A console WebSocket as the administrator's browser opens it: session cookie (from the sign-in form),
    /// same Origin, and a fresh ticket.</summary>
    public async Task<ClientWebSocket> OpenConsoleAsync(Guid vmId, ConsoleKind kind, CancellationToken cancellationToken)
    {
        var cookies = new CookieContainer();
        using (var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false })
        using (var browser = new HttpClient(handler) { BaseAddress = BaseAddress })
        {
            string form = await browser.GetStringAsync("/account/login", cancellationToken);
            var match = Regex.Match(form, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"");
            using var fields = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login",
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(match.Groups[1].Value),
                ["Input.UserName"] = AdminName,
                ["Input.Password"] = AdminPassword,
            });
            (await browser.PostAsync("/account/login", fields, cancellationToken)).StatusCode.Should().Be(HttpStatusCode.Redirect);
        }

        string adminId;
        await using (var db = await Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(cancellationToken))
        {
            adminId = (await db.Users.FirstAsync(u => u.UserName == AdminName, cancellationToken)).Id;
        }

        string ticket = Services.GetRequiredService<ConsoleTickets>().Issue(adminId, vmId, kind);
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Cookie", cookies.GetCookieHeader(BaseAddress));
        socket.Options.SetRequestHeader("Origin", BaseAddress.GetLeftPart(UriPartial.Authority));
        await socket.ConnectAsync(new Uri($"ws://{BaseAddress.Authority}{ConsoleTickets.WebSocketPath(vmId, kind, ticket)}"), cancellationToken);
        return socket;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
