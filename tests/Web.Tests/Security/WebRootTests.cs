using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>The repository's wwwroot (npm assets, our css/js): served with the security headers and without a log warning per file.</summary>
public sealed class WebRootTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/css/app.css")]
    [InlineData("/lib/xterm/xterm.css")]
    [InlineData("/lib/novnc/core/rfb.js")]
    public async Task A_web_root_file_is_served_with_the_security_headers_and_logs_no_warning(string path)
    {
        var logs = new WarningLog();
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<ILoggerProvider>(logs)));
        using var client = app.CreateClient();

        var response = await client.GetAsync(path, Ct);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
        logs.Warnings.Should().NotContain(w => w.Contains(path, StringComparison.Ordinal),
            "a file outside the build's manifest is served before routing, not by MapStaticAssets' development handler");
    }

    private sealed class WarningLog : ILoggerProvider
    {
        public ConcurrentQueue<string> Warnings { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(WarningLog log, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    log.Warnings.Enqueue($"{category}: {formatter(state, exception)}");
                }
            }
        }
    }
}
