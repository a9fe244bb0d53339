using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.E2E.Tests.Infrastructure;

/// <summary>The dashboard on a real Kestrel port (so a real browser can reach it), with its own data folder and
/// a first administrator from configuration.</summary>
public sealed class DashboardServer : WebApplicationFactory<Program>
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("platform-e2e-").FullName;

    public DashboardServer()
    {
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
