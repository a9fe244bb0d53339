using Npgsql;

namespace Platform.Web.Services.Cluster;

/// <summary>
/// Creates Orleans' tables in the cluster's database (membership: <c>OrleansClustering.PostgreSql.sql</c>, embedded in
/// this assembly), at every start. The script is idempotent; it runs in one transaction under an advisory lock, so
/// hosts that start together on an empty database do not race to create the same tables.
/// </summary>
public static class ClusterSchema
{
    /// <summary>An arbitrary constant that names "Platform's Orleans schema" among PostgreSQL's advisory locks.</summary>
    private const long AdvisoryLockKey = 0x706C_6174_6F72_6C6E; // "platorln"

    private const string ClusteringScript = "Platform.Web.Cluster.OrleansClustering.PostgreSql.sql";

    public static async Task EnsureAsync(string connectionString, CancellationToken cancellationToken)
    {
        string script = ReadScript(ClusteringScript);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("key", AdvisoryLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var command = new NpgsqlCommand(script, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static string ReadScript(string name)
    {
        using var stream = typeof(ClusterSchema).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded script {name} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
