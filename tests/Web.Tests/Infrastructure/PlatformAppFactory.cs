using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Services.Host;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Infrastructure;

/// <summary>
/// The real app on a real SQLite file in a throw-away data folder, with a recording <see cref="IVmRuntime"/> in
/// place of the supervisor and a host of known size. Images are limited to <see cref="MaxImageSizeBytes"/>.
/// Every client it makes acts as the first administrator through a real API token (see <see cref="TestAccounts"/>);
/// tests of other users make their own clients.
/// </summary>
public sealed class PlatformAppFactory : WebApplicationFactory<Program>
{
    public const long MaxImageSizeBytes = 4 << 20;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("platform-web-test-").FullName;

    public RecordingVmRuntime Runtime { get; } = new();

    public FixedHostInfo Host { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Platform:DataDirectory", DataDirectory);
        builder.UseSetting("Platform:MaxImageSizeBytes", MaxImageSizeBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseEnvironment("Development");
        TestAccounts.Configure(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IVmRuntime>(Runtime);
            services.AddSingleton<IHostInfo>(Host);
        });
    }

    private string? _adminToken;

    /// <summary>The administrator's API token, made once (the database is shared with WithWebHostBuilder's apps).</summary>
    public string AdminToken => _adminToken ??= TestAccounts.CreateAdminToken(DataDirectory);

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.WithToken(AdminToken);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the WAL file for a moment; a leftover temp folder is harmless.
        }
    }
}
