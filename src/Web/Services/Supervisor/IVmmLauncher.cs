using System.Threading.Channels;
using Platform.Web.Data;

namespace Platform.Web.Services.Supervisor;

/// <summary>How a VMM ended, as far as the supervisor can tell: its exit code when it was the dashboard's child.</summary>
internal readonly record struct VmmEnd(int? ExitCode);

/// <summary>
/// Starts VMMs and finds ones already running, for <see cref="VmActor"/>. The dashboard's is
/// <see cref="ProcessVmmLauncher"/>; tests put in one whose VMMs start slowly, die at once or never answer.
/// </summary>
internal interface IVmmLauncher
{
    /// <summary>Starts a VMM for <paramref name="vm"/> in <paramref name="runtimeDirectory"/> and returns once it answers.</summary>
    /// <exception cref="VmRuntimeException">It could not start; the message says why in the user's terms.</exception>
    /// <exception cref="OperationCanceledException">The start was called off; a VMM it had started is ended.</exception>
    Task<IVmmHandle> LaunchAsync(VirtualMachine vm, string runtimeDirectory, CancellationToken cancellationToken);

    /// <summary>The VMM still running in <paramref name="runtimeDirectory"/> (one an earlier dashboard started), or null.</summary>
    Task<IVmmHandle?> TryAttachAsync(string runtimeDirectory, CancellationToken cancellationToken);

    /// <summary>Removes what a dead VMM left in its folder (pid file, sockets); its log stays.</summary>
    void RemoveStaleFiles(string runtimeDirectory);
}

/// <summary>
/// One running VMM as the supervisor drives it. Its events come in order on <see cref="Events"/>, which completes
/// before <see cref="Ended"/> does, so whoever reads both sees every event of a VMM before its end.
/// </summary>
internal interface IVmmHandle : IAsyncDisposable
{
    int Pid { get; }

    string RuntimeDirectory { get; }

    /// <summary>What <c>query-status</c> said when the supervisor connected.</summary>
    VmRunState InitialState { get; }

    ChannelReader<VmmControlEvent> Events { get; }

    /// <summary>Completes when the VMM is gone (or, after <see cref="IAsyncDisposable.DisposeAsync"/>, let go of).</summary>
    Task<VmmEnd> Ended { get; }

    Task PauseAsync(CancellationToken cancellationToken);

    Task ResumeAsync(CancellationToken cancellationToken);

    Task ResetAsync(CancellationToken cancellationToken);

    /// <summary>Ctrl-Alt-Del: returns when the keys are delivered, not when the guest is down.</summary>
    Task PowerdownAsync(CancellationToken cancellationToken);

    /// <summary>Asks the VMM to end; returns when it has answered.</summary>
    Task QuitAsync(CancellationToken cancellationToken);

    Task<VmmStats> QueryStatsAsync(CancellationToken cancellationToken);

    /// <summary>Ends the VMM at once (SIGKILL).</summary>
    void Kill();
}
