using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Platform.Web.Services.Tasks;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.Tasks;

/// <summary>Lines any service logs while a task runs carry the task's and the VM's ids as scope properties, and stop carrying them when it ends.</summary>
public sealed class TaskLogScopeTests : IDisposable
{
    private readonly TestDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public void A_services_lines_within_a_task_carry_its_task_and_vm_ids()
    {
        var captured = new CapturingProvider();
        using var factory = LoggerFactory.Create(logging => logging.AddProvider(captured));
        var tasks = new TaskLog(_db.Factory, new FakeTimeProvider(), factory.CreateLogger<TaskLog>(), new Platform.Web.Services.Cluster.ClusterSettings());
        var service = factory.CreateLogger("Some.Service");
        var vmId = Guid.NewGuid();

        long id;
        using (var task = tasks.Begin(TaskActions.DiskResize, vmId, "disk 0", "scoped"))
        {
            id = task.Id;
            service.LogInformation("growing the file");
            task.Succeed();
        }

        service.LogInformation("after the task");

        var during = captured.Lines.Single(l => l.Message == "growing the file");
        during.Scope.Should().Contain(new KeyValuePair<string, object?>("TaskId", id)).And.Contain(new KeyValuePair<string, object?>("VmId", vmId));
        during.Text.Should().Contain($"task {id}, VM {vmId}");
        captured.Lines.Single(l => l.Message == "after the task").Scope.Should().NotContainKey("TaskId");
    }

    private sealed record Line(string Message, Dictionary<string, object?> Scope, string Text);

    private sealed class CapturingProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public List<Line> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = new Dictionary<string, object?>();
                var text = new List<string>();
                owner._scopes.ForEachScope((scope, _) =>
                {
                    text.Add(scope?.ToString() ?? "");
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (key, value) in pairs)
                        {
                            values[key] = value;
                        }
                    }
                }, (object?)null);
                lock (owner.Lines)
                {
                    owner.Lines.Add(new Line(formatter(state, exception), values, string.Join(" => ", text)));
                }
            }
        }
    }
}
