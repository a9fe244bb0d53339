using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Services;
using Platform.Web.Services.Host;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Infrastructure;

/// <summary>
/// The real app with the real VMM supervisor: VMs run as platform-vmm processes booting the test-guest kit.
/// Several factories may share one data folder, which is how a dashboard restart is played.
/// </summary>
/// <param name="dataDirectory">The data folder, shared by the factories that play one dashboard's restarts.</param>
/// <param name="supervisor">Settings under Platform:Supervisor for this run (e.g. <c>CrashRestartDelay</c>).</param>
public sealed class SupervisedAppFactory(string dataDirectory, IReadOnlyDictionary<string, string>? supervisor = null) : WebApplicationFactory<Program>
{
    public string DataDirectory { get; } = dataDirectory;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Platform:DataDirectory", DataDirectory);
        builder.UseSetting("Platform:Supervisor:StatsInterval", "00:00:00.200");
        builder.UseSetting("Platform:Supervisor:QuitTimeout", "00:00:05");
        foreach (var (key, value) in supervisor ?? new Dictionary<string, string>())
        {
            builder.UseSetting($"Platform:Supervisor:{key}", value);
        }

        builder.UseEnvironment("Development");
        TestAccounts.Configure(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IHostInfo>(new FixedHostInfo()));
    }

    private string? _adminToken;

    /// <summary>The administrator's API token; every client this factory makes carries it.</summary>
    public string AdminToken => _adminToken ??= TestAccounts.CreateAdminToken(DataDirectory);

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.WithToken(AdminToken);
    }

    /// <summary>A test guest's ELF kernel from tests/guests/build (the README's test command builds them).</summary>
    public static string TestGuest(string name) =>
        SourceTree.TestGuest(name) ?? throw new FileNotFoundException($"Test guest {name}.elf is missing: run make -C tests/guests.");
}
