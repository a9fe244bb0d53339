using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Platform.E2E.Tests.Infrastructure;

/// <summary>
/// The dashboard as its own process (<c>dotnet Platform.Web.dll</c> from the build beside this test), on a loopback
/// port of its own, with a data folder the test gives it, so a test can kill it as the kernel would (SIGKILL) and start
/// another on the same folder. Its console output is kept for the failure message.
/// </summary>
public sealed class DashboardProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private DashboardProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int Pid => _process.Id;

    /// <summary>What it printed so far (the last 8 KiB).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                string all = _output.ToString();
                return all.Length > 8192 ? all[^8192..] : all;
            }
        }
    }

    /// <summary>Starts the dashboard on <paramref name="dataDirectory"/> and waits until /healthz answers 200.</summary>
    public static async Task<DashboardProcess> StartAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        string program = ProgramPath();
        int port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { program },
            WorkingDirectory = Path.GetDirectoryName(program)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Not ASPNETCORE_URLS: appsettings.json's Urls would win over it; a plain environment variable wins over appsettings.
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["Platform__DataDirectory"] = dataDirectory;
        start.Environment["Platform__Admin__UserName"] = DashboardServer.AdminName;
        start.Environment["Platform__Admin__Password"] = DashboardServer.AdminPassword;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"dotnet {program} did not start");
        var dashboard = new DashboardProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => dashboard.Append(e.Data);
        process.ErrorDataReceived += (_, e) => dashboard.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await dashboard.WaitHealthyAsync(cancellationToken);
        return dashboard;
    }

    /// <summary>SIGKILL, as the OOM killer or `kill -9` would: no shutdown code runs, nothing is flushed.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>An HTTP client signed in as the administrator through the real sign-in form (its cookie also opens the API).</summary>
    public async Task<HttpClient> SignInAsync(CancellationToken cancellationToken)
    {
        var cookies = new CookieContainer();
        var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = BaseAddress };
        string form = await client.GetStringAsync("/account/login", cancellationToken);
        var token = Regex.Match(form, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"");
        using var fields = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
            ["Input.UserName"] = DashboardServer.AdminName,
            ["Input.Password"] = DashboardServer.AdminPassword,
        });
        var response = await client.PostAsync("/account/login", fields, cancellationToken);
        response.StatusCode.Should().Be(HttpStatusCode.Redirect, "signing in works; the dashboard said: {0}", Output);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        // Generous: a cold start on a loaded two-core machine (JIT, migrations) takes tens of seconds.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The dashboard exited with {_process.ExitCode} while starting:\n{Output}");
            }

            try
            {
                if ((await client.GetAsync("/healthz", cancellationToken)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }

            await Task.Delay(500, cancellationToken);
        }

        throw new TimeoutException($"The dashboard did not answer /healthz within 3 minutes:\n{Output}");
    }

    /// <summary>Platform.Web.dll as the build left it in src/Web/bin/{configuration}/{framework}: the configuration and
    /// framework this test was built for.</summary>
    private static string ProgramPath()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = testOutput.Name;
        string configuration = testOutput.Parent!.Name;
        string root = Platform.Web.Services.SourceTree.Root ?? throw new InvalidOperationException("The test runs outside the source tree.");
        string program = Path.Combine(root, "src", "Web", "bin", configuration, framework, "Platform.Web.dll");
        return File.Exists(program) ? program : throw new FileNotFoundException($"{program} is missing: build src/Web ({configuration}).", program);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
