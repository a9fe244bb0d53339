using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Extensions;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>
/// The keys that sign cookies and antiforgery tokens live in the dashboard's database (platform.db on one host), not in
/// the home folder of whoever runs it: a container's restart or a restored backup keeps users signed in.
/// </summary>
public sealed class DataProtectionKeysTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_key_ring_is_in_the_dashboard_s_database_under_the_platform_s_name()
    {
        var (browser, _) = await TestAccounts.SignInAsync(factory, TestAccounts.AdminName, TestAccounts.AdminPassword);
        browser.Dispose();

        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(Ct);
        var keys = await db.DataProtectionKeys.ToListAsync(Ct);
        keys.Should().NotBeEmpty("signing in made the session cookie with a key from the ring");
        keys.Should().OnlyContain(k => k.Xml != null && k.Xml.Contains("<key ", StringComparison.Ordinal));

        // A second key ring reader on the same database (another process, a restart) reads what this one protected.
        var protector = factory.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test");
        string secret = protector.Protect("kept");
        var services = new ServiceCollection();
        services.AddDbContextFactory<PlatformDbContext>(o => o.UseSqlite(db.Database.GetConnectionString()));
        services.AddDataProtection().SetApplicationName(DataProtectionServiceExtensions.ApplicationName).PersistKeysToDbContext<PlatformDbContext>();
        await using var other = services.BuildServiceProvider();
        other.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(secret).Should().Be("kept");
    }
}
