using Npgsql;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Cluster;

/// <summary>The throw-away PostgreSQL the cluster tests stand on: a real server, a database per test, nothing shared.</summary>
[Collection(SharedPostgres.Name)]
public sealed class TestPostgresTests(TestPostgres postgres)
{
    [Fact]
    public async Task Serves_a_private_cluster_on_its_own_socket()
    {
        string version = (string)(await TestPostgres.ScalarAsync(postgres.ConnectionString(), "SHOW server_version"))!;
        version.Should().MatchRegex(@"^\d+\.\d+");
        File.Exists(Path.Combine(postgres.SocketFolder, ".s.PGSQL.5432")).Should().BeTrue("the server listens on a socket in its own folder");
        (await TestPostgres.ScalarAsync(postgres.ConnectionString(), "SHOW listen_addresses")).Should().Be("", "no TCP port is opened");
    }

    [Fact]
    public async Task Each_database_starts_empty_and_apart()
    {
        string first = await postgres.CreateDatabaseAsync();
        string second = await postgres.CreateDatabaseAsync();
        first.Should().NotBe(second);

        await TestPostgres.ScalarAsync(first, "CREATE TABLE marker (id int)");
        (await TestPostgres.ScalarAsync(second, "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'")).Should().Be(0L);
        (await TestPostgres.ScalarAsync(first, "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'")).Should().Be(1L);
    }

    [Fact]
    public async Task Runs_as_an_unprivileged_user()
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString());
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        int pid = (int)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        string status = await File.ReadAllTextAsync($"/proc/{pid}/status", TestContext.Current.CancellationToken);
        string uid = status.Split('\n').Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
        uid.Should().NotBe("0", "PostgreSQL refuses root; the helper runs it as the postgres user");
    }
}
