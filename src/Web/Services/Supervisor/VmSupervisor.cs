using Platform.Web.Extensions;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Tasks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// Runs one platform-vmm per VM and answers for them: each VM has one <see cref="VmActor"/> that owns its state and
/// serializes everything that happens to it; this class only finds the actor. On start it reattaches to VMMs that
/// outlived the previous dashboard and takes over restarts that were due (<see cref="SupervisorStartup"/>); on stop it
/// lets every VMM run on — a dashboard restart never stops a guest.
/// </summary>
internal sealed class VmSupervisor : IVmRuntime, IVmRuntimeInfo, IHostedService, IAsyncDisposable
{
    private readonly Dictionary<Guid, VmActor> _actors = [];
    private readonly Lock _actorsLock = new();
    private readonly Subscribers<VmStateChanged> _stateSubscribers = new();
    private readonly Subscribers<VmStatsSample> _statsSubscribers = new();
    private readonly WatchCounts _watched = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SupervisorContext _context;
    private readonly VmmProgram? _program;
    private readonly ILogger _logger;
    private Task _background = Task.CompletedTask;

    public VmSupervisor(
        IVmmLauncher launcher, IVmDefinitions definitions, IVmEventLog events, PlatformOptions platformOptions,
        SupervisorOptions options, ILogger<VmSupervisor> logger, VmmProgram? program = null, ITaskLog? tasks = null)
    {
        _logger = logger;
        _program = program;
        RuntimeFolder.Logger = logger;
        RuntimeRoot = options.RuntimeRoot ?? Path.Combine(platformOptions.DataDirectory, "run");
        _context = new SupervisorContext(launcher, definitions, events, options, RuntimeRoot,
            change => _stateSubscribers.Publish(change, _logger), logger, _stopping.Token, tasks);
    }

    public string RuntimeRoot { get; }

    public string RuntimeDirectoryOf(Guid vmId) => _context.RuntimeDirectoryOf(vmId);

    /// <summary>The VM's actor, made on first use; <paramref name="name"/> names it in messages until its definition is read.</summary>
    internal VmActor Actor(Guid vmId, string? name = null)
    {
        lock (_actorsLock)
        {
            if (!_actors.TryGetValue(vmId, out var actor))
            {
                actor = new VmActor(vmId, name, _context);
                _actors[vmId] = actor;
            }

            return actor;
        }
    }

    private VmActor? Existing(Guid vmId)
    {
        lock (_actorsLock)
        {
            return _actors.GetValueOrDefault(vmId);
        }
    }

    internal IReadOnlyList<VmActor> Actors()
    {
        lock (_actorsLock)
        {
            return [.. _actors.Values];
        }
    }

    public VmPowerState GetState(Guid vmId) => Existing(vmId)?.State ?? VmPowerState.Stopped;

    public IDisposable Subscribe(Action<VmStateChanged> handler) => _stateSubscribers.Add(handler);

    public IDisposable SubscribeStats(Action<VmStatsSample> handler) => _statsSubscribers.Add(handler);

    public IDisposable WatchStats(Guid vmId) => _watched.Add(vmId);

    internal bool IsWatched(Guid vmId) => _watched.Contains(vmId);

    /// <summary>Reads every running VM's counters, a few at a time, and publishes them.</summary>
    public Task SampleAllAsync(CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(Actors().Where(a => a.Vmm is not null), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            (actor, token) => new ValueTask(ReadAndPublishAsync(actor.VmId, token)));

    /// <summary>
    /// Reads one VM's counters and hands them to every subscriber: the live poller's and the history tick's reading.
    /// A failed reading is logged and costs that VM's sample only; the others are still read.
    /// </summary>
    internal async Task ReadAndPublishAsync(Guid vmId, CancellationToken cancellationToken)
    {
        try
        {
            if (await GetStatsAsync(vmId, cancellationToken) is { } stats)
            {
                _statsSubscribers.Publish(new VmStatsSample(vmId, stats, DateTimeOffset.UtcNow), _logger);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            _logger.LogWarning(ex, "Could not read the counters of VM {VmId}", vmId);
        }
    }

    public Task StartAsync(Guid vmId, CancellationToken cancellationToken) => Actor(vmId).StartAsync(cancellationToken);

    // Only Start makes an actor: any other action on a VM that has none finds nothing running.
    public Task StopAsync(Guid vmId, CancellationToken cancellationToken) => Running(vmId).StopAsync(cancellationToken);

    public Task ShutdownAsync(Guid vmId, TimeSpan timeout, CancellationToken cancellationToken) =>
        Running(vmId).ShutdownAsync(timeout, cancellationToken);

    public Task PauseAsync(Guid vmId, CancellationToken cancellationToken) => Running(vmId).CommandAsync(VmmCommandKind.Pause, cancellationToken);

    public Task ResumeAsync(Guid vmId, CancellationToken cancellationToken) => Running(vmId).CommandAsync(VmmCommandKind.Resume, cancellationToken);

    public Task ResetAsync(Guid vmId, CancellationToken cancellationToken) => Running(vmId).CommandAsync(VmmCommandKind.Reset, cancellationToken);

    private VmActor Running(Guid vmId) => Existing(vmId) ?? throw new VmRuntimeException("The VM is not running.");

    /// <summary>
    /// The VM was deleted: a pending restart is cancelled, anything still running for it ends, its actor goes, and so
    /// does its runtime folder — removed entry by entry through descriptors (<see cref="RuntimeFolder.RemoveTree"/>),
    /// since its VMM ran as the folder's owner and may have left links to anywhere in it.
    /// </summary>
    public async Task ForgetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        if (Existing(vmId) is { } actor)
        {
            await actor.ForgetAsync(cancellationToken);
            lock (_actorsLock)
            {
                _actors.Remove(vmId);
            }

            await actor.DisposeAsync();
        }

        RuntimeFolder.RemoveTree(RuntimeDirectoryOf(vmId));
    }

    public string? GetSocketPath(Guid vmId, VmSocket socket)
    {
        if (Existing(vmId)?.Vmm is not { } vmm)
        {
            return null;
        }

        string name = socket switch
        {
            VmSocket.Control => ControlProtocol.ControlSocketName,
            VmSocket.Serial => ControlProtocol.SerialSocketName,
            _ => ControlProtocol.VncSocketName,
        };
        try
        {
            // A socket the VMM bound, not whatever the VM left under the name; callers connect through VmmSockets all the same.
            using var folder = RuntimeFolder.Open(vmm.RuntimeDirectory);
            return folder is not null && folder.HasSocket(name) ? Path.Combine(vmm.RuntimeDirectory, name) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public async Task<VmmStats?> GetStatsAsync(Guid vmId, CancellationToken cancellationToken)
    {
        if (Existing(vmId)?.Vmm is not { } vmm)
        {
            return null;
        }

        try
        {
            return await vmm.QueryStatsAsync(cancellationToken);
        }
        catch (VmRuntimeException)
        {
            return null; // It is ending; its actor records how.
        }
    }

    /// <summary>Says which platform-vmm VMs will run, reattaches, takes over due restarts, then starts autostart VMs.</summary>
    async Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        _ = _program?.Current;
        var startup = new SupervisorStartup(this, _context);
        var autostart = await startup.ReconcileAsync(cancellationToken);
        var stats = new VmStatsPoller(this, _context.Options.StatsInterval);
        _background = Task.WhenAll(
            stats.RunAsync(_stopping.Token),
            CheckFoldersAsync(_stopping.Token),
            Task.Run(() => startup.AutostartAsync(autostart, _stopping.Token), CancellationToken.None));
    }

    /// <summary>
    /// One timer for every VM's runtime-folder check (<see cref="VmActor.CheckFolder"/>): a timer per running VM woke
    /// the dashboard 500 times a second for a thousand idle VMs.
    /// </summary>
    private async Task CheckFoldersAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_context.Options.FolderCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var actor in Actors())
                {
                    actor.CheckFolder();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The dashboard is stopping.
        }
    }

    /// <summary>Lets go of the VMMs without stopping them: the next dashboard reattaches.</summary>
    async Task IHostedService.StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _background.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var actor in Actors())
        {
            await actor.DisposeAsync();
        }
    }
}
