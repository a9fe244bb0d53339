using System.Diagnostics;
using System.Threading.Channels;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// Follows one platform-vmm: its control connection (events, commands) and its process, until it ends. When the
/// connection drops but the process lives on (it closed a client it thought stuck), it connects again; a VMM that
/// no longer answers is killed, since a VM nobody can control must not stay half-alive.
/// </summary>
internal sealed class VmmConnection : IVmmHandle
{
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(5);

    private readonly Channel<VmmControlEvent> _events = Channel.CreateUnbounded<VmmControlEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Process? _process;
    private readonly CancellationTokenSource _closing = new();
    private VmmControlClient _client;
    private volatile bool _detached;

    private VmmConnection(string runtimeDirectory, int pid, Process? process, VmmControlClient client)
    {
        RuntimeDirectory = runtimeDirectory;
        Pid = pid;
        _process = process;
        _client = client;
        _client.EventReceived += Forward;
    }

    public int Pid { get; }

    public string RuntimeDirectory { get; }

    public VmRunState InitialState { get; private set; }

    public ChannelReader<VmmControlEvent> Events => _events.Reader;

    public Task<VmmEnd> Ended { get; private set; } = null!;

    /// <summary>Connects to the VMM's control socket and reads its state.</summary>
    /// <param name="process">The child process when this dashboard started it; null after a reattach.</param>
    /// <exception cref="VmmControlException">Nothing answers, or it is not the VMM with <paramref name="pid"/>.</exception>
    public static async Task<VmmConnection> ConnectAsync(string runtimeDirectory, int pid, Process? process, CancellationToken cancellationToken)
    {
        var client = await VmmSockets.ConnectControlAsync(Path.Combine(runtimeDirectory, ControlProtocol.ControlSocketName), cancellationToken);
        var connection = new VmmConnection(runtimeDirectory, pid, process, client);
        try
        {
            if (client.Greeting.Pid != pid)
            {
                throw new VmmControlException($"The control socket belongs to pid {client.Greeting.Pid}, not {pid}.");
            }

            connection.InitialState = (await client.QueryStatusAsync(cancellationToken)).Status;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }

        connection.Ended = connection.FollowAsync();
        return connection;
    }

    // Runs on the client's reader: only hands the event on.
    private void Forward(VmmControlEvent e) => _events.Writer.TryWrite(e);

    /// <summary>Waits for the control connection to end, then for the process; the events are complete before the end is known.</summary>
    private async Task<VmmEnd> FollowAsync()
    {
        while (true)
        {
            await _client.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (_detached)
            {
                break;
            }

            if (await WaitForExitAsync(ExitGrace) || !await TryReconnectAsync())
            {
                break;
            }
        }

        _events.Writer.TryComplete();
        await _client.DisposeAsync();
        if (_detached)
        {
            return new VmmEnd(null);
        }

        if (!VmmProcess.IsAlive(Pid))
        {
            VmmProcess.RemoveStaleFiles(RuntimeDirectory);
        }

        int? exitCode = _process is { HasExited: true } ? _process.ExitCode : null;
        _process?.Dispose();
        return new VmmEnd(exitCode);
    }

    private async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (_process is { } process)
        {
            try
            {
                await process.WaitForExitAsync().WaitAsync(timeout);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        var deadline = Stopwatch.StartNew();
        while (VmmProcess.IsAlive(Pid))
        {
            if (deadline.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    private async Task<bool> TryReconnectAsync()
    {
        try
        {
            await _client.DisposeAsync();
            _client = await VmmSockets.ConnectControlAsync(Path.Combine(RuntimeDirectory, ControlProtocol.ControlSocketName), _closing.Token);
            _client.EventReceived += Forward;
            return true;
        }
        catch (Exception ex) when (ex is VmmControlException or OperationCanceledException or TimeoutException or IOException)
        {
            // Its socket is gone (a deleted runtime folder) or it no longer answers: nobody could control it, so it ends.
            Kill();
            return false;
        }
    }

    public Task PauseAsync(CancellationToken cancellationToken) => Command(c => c.PauseAsync(cancellationToken));

    public Task ResumeAsync(CancellationToken cancellationToken) => Command(c => c.ResumeAsync(cancellationToken));

    public Task ResetAsync(CancellationToken cancellationToken) => Command(c => c.ResetAsync(cancellationToken));

    public Task PowerdownAsync(CancellationToken cancellationToken) => Command(c => c.PowerdownAsync(cancellationToken));

    public Task QuitAsync(CancellationToken cancellationToken) => Command(c => c.QuitAsync(cancellationToken));

    public async Task<VmmStats> QueryStatsAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _client.QueryStatsAsync(cancellationToken);
        }
        catch (VmmControlException ex)
        {
            throw new VmRuntimeException(ex.Message, ex);
        }
    }

    private async Task Command(Func<VmmControlClient, Task> command)
    {
        try
        {
            await command(_client);
        }
        catch (VmmControlException ex)
        {
            throw new VmRuntimeException(ex.Message, ex);
        }
    }

    public void Kill() => VmmProcess.Kill(Pid);

    /// <summary>Lets go of the VMM without ending it: the next dashboard reattaches.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!Ended.IsCompleted)
        {
            _detached = true;
            await _closing.CancelAsync();
            await _client.DisposeAsync();
            await ((Task)Ended).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _closing.Dispose();
    }
}
