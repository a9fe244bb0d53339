using System.Diagnostics;
using Npgsql;

namespace Platform.Web.Tests.Infrastructure;

/// <summary>
/// A throw-away PostgreSQL server for the cluster tests: Debian's <c>postgresql</c> package (<c>./platform test</c>
/// installs it), a private cluster made with <c>initdb</c> in a temporary folder, <c>postgres</c> listening only on a
/// Unix socket in that folder (no TCP port to collide with anything), stopped and deleted on dispose. PostgreSQL refuses
/// to run as root, so under root it runs as the package's <c>postgres</c> user (<c>setpriv</c>, which execs, so the
/// process we hold is the server itself). Each test takes a database of its own with <see cref="CreateDatabaseAsync"/>.
/// </summary>
public sealed class TestPostgres : IAsyncLifetime
{
    private const string ServiceUser = "postgres";
    private const string Superuser = "platform";
    private const int SocketPort = 5432;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _folder = Directory.CreateTempSubdirectory("platform-pg-").FullName;
    private readonly System.Text.StringBuilder _log = new();
    private Process? _server;
    private int _databases;

    private string DataFolder => Path.Combine(_folder, "data");

    /// <summary>The folder holding the server's socket: the connection string's Host.</summary>
    public string SocketFolder => _folder;

    /// <summary>A connection string to <paramref name="database"/> as the cluster's superuser.</summary>
    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = SocketFolder, Port = SocketPort, Username = Superuser, Database = database,
        // Each test's dashboards open and close their own pools; a test ends by dropping its database.
        Pooling = true, MaxPoolSize = 20,
    }.ConnectionString;

    public async ValueTask InitializeAsync()
    {
        string bin = FindBinaries();
        bool asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            // The server's user must own its folder; the socket folder is this same private folder.
            Run("chown", ServiceUser, _folder);
        }

        var initdb = Run(Path.Combine(bin, "initdb"), asRoot,
            "-D", DataFolder, "-U", Superuser, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync");
        if (initdb.ExitCode != 0)
        {
            throw new InvalidOperationException($"initdb failed ({initdb.ExitCode}): {initdb.Output}");
        }

        // Durability is not what a test needs: fsync off makes schema creation several times faster.
        _server = Start(Path.Combine(bin, "postgres"), asRoot,
            "-D", DataFolder, "-k", _folder, "-p", SocketPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200");
        await WaitUntilReadyAsync();
    }

    /// <summary>A new, empty database; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        string name = $"test_{Interlocked.Increment(ref _databases)}";
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Runs one SQL statement in <paramref name="connectionString"/>'s database and returns the first column of the first row.</summary>
    public static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_server is { HasExited: false })
        {
            // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, the server and its children exit.
            Run("kill", "-INT", _server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _server.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _server.Kill(entireProcessTree: true);
            }
        }

        _server?.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    /// <summary>The newest installed PostgreSQL's binaries (Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin).</summary>
    private static string FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        var newest = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(dir => (Dir: dir, Version: int.TryParse(Path.GetFileName(dir), out int v) ? v : -1))
                .Where(d => d.Version > 0 && File.Exists(Path.Combine(d.Dir, "bin", "postgres")))
                .OrderByDescending(d => d.Version)
                .Select(d => Path.Combine(d.Dir, "bin"))
                .FirstOrDefault()
            : null;
        return newest ?? throw new InvalidOperationException(
            "PostgreSQL is not installed (no /usr/lib/postgresql/N/bin/postgres): the cluster tests need Debian's postgresql package, which ./platform test installs.");
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_server!.HasExited)
            {
                lock (_log)
                {
                    throw new InvalidOperationException($"postgres exited with code {_server.ExitCode}: {_log}");
                }
            }

            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString());
                await connection.OpenAsync();
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException && deadline.Elapsed < StartTimeout)
            {
                await Task.Delay(50);
            }
        }
    }

    private static ProcessStartInfo Command(string program, bool asServiceUser, string[] args)
    {
        var start = asServiceUser
            ? new ProcessStartInfo("setpriv") { ArgumentList = { "--reuid", ServiceUser, "--regid", ServiceUser, "--init-groups", "--", program } }
            : new ProcessStartInfo(program);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        return start;
    }

    private Process Start(string program, bool asServiceUser, params string[] args)
    {
        var process = Process.Start(Command(program, asServiceUser, args)) ?? throw new InvalidOperationException($"{program} did not start");
        // The server logs to stderr; drained so it never blocks on a full pipe, and kept for the error of a failed start.
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { } text)
            {
                lock (_log)
                {
                    _log.AppendLine(text);
                }
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private static (int ExitCode, string Output) Run(string program, params string[] args) => Run(program, false, args);

    private static (int ExitCode, string Output) Run(string program, bool asServiceUser, params string[] args)
    {
        using var process = Process.Start(Command(program, asServiceUser, args)) ?? throw new InvalidOperationException($"{program} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.GetAwaiter().GetResult());
    }
}

/// <summary>The cluster tests share one <see cref="TestPostgres"/>; each takes databases of its own.</summary>
[CollectionDefinition(Name)]
public sealed class SharedPostgres : ICollectionFixture<TestPostgres>
{
    public const string Name = "PostgreSQL";
}
