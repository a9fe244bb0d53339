using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Data.PostgreSql;
using Platform.Web.Services.Cluster;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Cluster;

/// <summary>
/// The dashboard on a cluster's PostgreSQL (real server, <see cref="TestPostgres"/>): it makes every table itself in
/// an empty database, and a second dashboard on the same database serves the same users and VMs.
/// </summary>
[Collection(SharedPostgres.Name)]
public sealed class ClusterDatabaseTests(TestPostgres postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_empty_database_gets_every_table_at_start()
    {
        string database = await postgres.CreateDatabaseAsync();
        await using var host = new ClusterAppFactory(database, "host-a");
        using var client = host.CreateClient();
        (await client.GetAsync("/healthz", Ct)).StatusCode.Should().Be(HttpStatusCode.OK);

        var tables = await TablesAsync(database);
        tables.Should().Contain(["AspNetUsers", "VirtualMachines", "AuditLog", "__EFMigrationsHistory"], "the dashboard's own tables");
        tables.Should().Contain(["orleansquery", "orleansmembershiptable", "orleansmembershipversiontable"], "Orleans' membership tables");
        (await TestPostgres.ScalarAsync(database, "SELECT count(*) FROM \"__EFMigrationsHistory\"")).Should().NotBe(0L);
        (await TestPostgres.ScalarAsync(database, "SELECT count(*) FROM orleansquery")).Should().Be(9L, "every query the clustering provider reads");
        File.Exists(Path.Combine(host.DataDirectory, "platform.db")).Should().BeFalse("no SQLite file in a cluster");
    }

    [Fact]
    public async Task A_second_dashboard_on_the_same_database_sees_the_users_and_vms_of_the_first()
    {
        string database = await postgres.CreateDatabaseAsync();
        await using var first = new ClusterAppFactory(database, "host-a");
        var (browser, _) = await TestAccounts.SignInAsync(first, TestAccounts.AdminName, TestAccounts.AdminPassword);
        using (browser)
        {
            (await browser.GetStringAsync("/vms", Ct)).Should().Contain("Virtual machines");
        }

        string token = await TestAccounts.CreateTokenAsync(first.Services, await TestAccounts.AdminIdAsync(first.Services));
        using var onFirst = first.CreateClient().WithToken(token);
        var created = await onFirst.PostAsJsonAsync("/api/v1/vms", new { name = "Shared-VM", kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct);
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        string id = (await created.ReadJsonAsync()).GetProperty("id").GetString()!;

        await using var second = new ClusterAppFactory(database, "host-b");
        using var onSecond = second.CreateClient().WithToken(token);
        var seen = await onSecond.GetAsync($"/api/v1/vms/{id}", Ct);
        seen.StatusCode.Should().Be(HttpStatusCode.OK, "the second dashboard reads the same database, token included");
        (await seen.ReadJsonAsync()).GetProperty("name").GetString().Should().Be("Shared-VM");

        // Names stay unique without regard to case, as on SQLite: the NOCASE collation exists on PostgreSQL too.
        var clash = await onSecond.PostAsJsonAsync("/api/v1/vms", new { name = "shared-vm", kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct);
        clash.IsSuccessStatusCode.Should().BeFalse("a VM named shared-vm exists already, in another case");

        var (secondBrowser, _) = await TestAccounts.SignInAsync(second, TestAccounts.AdminName, TestAccounts.AdminPassword);
        using (secondBrowser)
        {
            (await secondBrowser.GetStringAsync("/vms", Ct)).Should().Contain("Shared-VM", "the VM list of the second dashboard shows the VM the first made");
        }
    }

    [Fact]
    public async Task A_user_signed_in_on_one_dashboard_is_signed_in_on_another_of_the_same_cluster()
    {
        string database = await postgres.CreateDatabaseAsync();
        await using var first = new ClusterAppFactory(database, "host-a");
        var (browser, cookie) = await TestAccounts.SignInAsync(first, TestAccounts.AdminName, TestAccounts.AdminPassword);
        browser.Dispose();

        // The second dashboard has another data folder and home: only the database is shared.
        await using var second = new ClusterAppFactory(database, "host-b");
        using var onSecond = second.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/vms");
        request.Headers.Add("Cookie", cookie);
        var page = await onSecond.SendAsync(request, Ct);
        page.StatusCode.Should().Be(HttpStatusCode.OK, "the session cookie the first dashboard signed is valid on the second (a redirect to sign-in means it was not)");
        (await page.Content.ReadAsStringAsync(Ct)).Should().Contain("Virtual machines");

        // What one protects, the other reads: one key ring, in the database.
        var secret = first.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect("shared");
        second.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(secret).Should().Be("shared");
        (await TestPostgres.ScalarAsync(database, "SELECT count(*) FROM \"DataProtectionKeys\"")).Should().NotBe(0L);
    }

    [Fact]
    public async Task A_database_that_cannot_be_reached_is_named_with_the_way_out()
    {
        string nowhere = $"Host={Path.Combine(postgres.SocketFolder, "absent")};Port=5432;Username=platform;Database=platform;Timeout=2";
        var cluster = new ClusterSettings { ConnectionString = nowhere };
        var options = new DbContextOptionsBuilder<PostgreSqlPlatformDbContext>().UseNpgsql(nowhere).Options;
        var factory = new PooledDbContextFactory<PostgreSqlPlatformDbContext>(options);

        var migrate = () => ClusterDatabase.MigrateAsync(new AsPlatformContexts(factory), cluster, Ct);

        var thrown = await migrate.Should().ThrowAsync<ClusterDatabaseUnavailableException>();
        thrown.Which.Message.Should().Contain($"PostgreSQL at {Path.Combine(postgres.SocketFolder, "absent")}:5432, database platform")
            .And.Contain("Platform:Cluster:ConnectionString");
    }

    private sealed class AsPlatformContexts(IDbContextFactory<PostgreSqlPlatformDbContext> inner) : IDbContextFactory<PlatformDbContext>
    {
        public PlatformDbContext CreateDbContext() => inner.CreateDbContext();
    }

    private static async Task<List<string>> TablesAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new Npgsql.NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var names = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}
