using Platform.Web.Services.Runtime;

namespace Platform.Web.Tests.Fakes;

/// <summary>
/// A runtime that cannot act, as when no supervisor may run VMMs: every VM is Stopped and every power action fails
/// with <see cref="VmRuntimeException.Unavailable"/> set, which the API answers with 503. The dashboard always
/// registers <c>VmSupervisor</c> (SupervisorServiceExtensions); this exists for the test of that answer.
/// </summary>
internal sealed class UnavailableVmRuntime : IVmRuntime
{
    public const string Reason = "The VM supervisor is not running";

    public VmPowerState GetState(Guid vmId) => VmPowerState.Stopped;

    public Task StartAsync(Guid vmId, CancellationToken cancellationToken) => Fail();

    public Task ShutdownAsync(Guid vmId, TimeSpan timeout, CancellationToken cancellationToken) => Fail();

    public Task StopAsync(Guid vmId, CancellationToken cancellationToken) => Fail();

    public Task PauseAsync(Guid vmId, CancellationToken cancellationToken) => Fail();

    public Task ResumeAsync(Guid vmId, CancellationToken cancellationToken) => Fail();

    public Task ResetAsync(Guid vmId, CancellationToken cancellationToken) => Fail();

    /// <summary>Nothing runs here, so there is nothing to forget.</summary>
    public Task ForgetAsync(Guid vmId, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Nothing ever changes, so the handler is never called.</summary>
    public IDisposable Subscribe(Action<VmStateChanged> handler) => NoSubscription.Instance;

    private static Task Fail() => Task.FromException(new VmRuntimeException(Reason) { Unavailable = true });

    private sealed class NoSubscription : IDisposable
    {
        public static readonly NoSubscription Instance = new();

        public void Dispose()
        {
        }
    }
}
