using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Tasks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.Supervisor;

/// <summary>What every <see cref="VmActor"/> shares: how to launch, read definitions, record and publish; nothing per VM.</summary>
internal sealed partial class SupervisorContext(
    IVmmLauncher launcher, IVmDefinitions definitions, IVmEventLog events, SupervisorOptions options, string runtimeRoot,
    Action<VmStateChanged> publish, ILogger logger, CancellationToken stopping, ITaskLog? tasks = null)
{
    public IVmmLauncher Launcher { get; } = launcher;

    public IVmDefinitions Definitions { get; } = definitions;

    public SupervisorOptions Options { get; } = options;

    public ILogger Logger { get; } = logger;

    /// <summary>Cancelled when the dashboard stops: pending restarts wait for the next one.</summary>
    public CancellationToken Stopping { get; } = stopping;

    /// <summary>
    /// Begins a task of the supervisor's own (an autostart, a restart after a crash), by <see cref="TaskActor.System"/>;
    /// null without a task log (tests of the actor alone) or when it cannot be written, which must not stop the start.
    /// </summary>
    public TaskScope? BeginTask(string action, Guid vmId, string name, string line)
    {
        if (tasks is null)
        {
            return null;
        }

        try
        {
            var task = tasks.Begin(action, vmId, vmName: name, userName: TaskActor.System);
            task.Log(line);
            return task;
        }
        catch (Exception ex) when (ex is DbUpdateException or System.Data.Common.DbException or InvalidOperationException or ObjectDisposedException)
        {
            Log.TaskNotBegun(Logger, ex, action, name);
            return null;
        }
    }

    public string RuntimeDirectoryOf(Guid vmId) => Path.Combine(runtimeRoot, vmId.ToString("N"));

    public void Publish(Guid vmId, VmPowerState state, string? reason) => publish(new VmStateChanged(vmId, state, reason, DateTimeOffset.UtcNow));

    /// <summary>Adds to the VM's event log; a failure to write is logged, never thrown at the VM's owner.</summary>
    public async Task RecordAsync(Guid vmId, string name, VmEventResult result, string message, string kind = VmEventKinds.StateChanged)
    {
        try
        {
            await events.AddAsync(new VmEvent { VmId = vmId, VmName = name, Kind = kind, Result = result, Message = message }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or ObjectDisposedException)
        {
            Log.EventLogFailed(Logger, ex, message);
        }
    }

    public static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Could not record the task {Action} of VM {Name}")]
        public static partial void TaskNotBegun(ILogger logger, Exception exception, string action, string name);

        [LoggerMessage(LogLevel.Information, "Autostart is off on this host (Platform:Supervisor:Autostart): {Count} autostart VM(s) left stopped")]
        public static partial void AutostartOff(ILogger logger, int count);

        [LoggerMessage(LogLevel.Information, "VM {Name} started (VMM pid {Pid})")]
        public static partial void Started(ILogger logger, string name, int pid);

        [LoggerMessage(LogLevel.Information, "Reattached to VM {Name} (VMM pid {Pid})")]
        public static partial void Reattached(ILogger logger, string name, int pid);

        [LoggerMessage(LogLevel.Warning, "VM {Name} crashed: {Reason}")]
        public static partial void Crashed(ILogger logger, string name, string reason);

        [LoggerMessage(LogLevel.Warning, "VM {Name} will be restarted in {Delay} (on-crash policy)")]
        public static partial void Restarting(ILogger logger, string name, TimeSpan delay);

        [LoggerMessage(LogLevel.Error, "VM {Name} crashed {Crashes} times in the restart window: not restarted again")]
        public static partial void GaveUp(ILogger logger, string name, int crashes);

        [LoggerMessage(LogLevel.Warning, "Could not record a pending restart in {Directory}")]
        public static partial void PendingNotWritten(ILogger logger, Exception exception, string directory);

        [LoggerMessage(LogLevel.Warning, "Could not write to the event log: {Message}")]
        public static partial void EventLogFailed(ILogger logger, Exception exception, string message);

        [LoggerMessage(LogLevel.Error, "VM {Name}: following its VMM (pid {Pid}) failed; it is taken as ended")]
        public static partial void FollowFailed(ILogger logger, Exception exception, string name, int pid);

        [LoggerMessage(LogLevel.Warning, "VM {Name}: its runtime folder {Directory} was deleted while its VMM (pid {Pid}) runs")]
        public static partial void FolderLost(ILogger logger, string name, string directory, int pid);

        [LoggerMessage(LogLevel.Warning, "VM {Name}: the VMM (pid {Pid}) did not quit when asked; killing it")]
        public static partial void QuitFailed(ILogger logger, Exception exception, string name, int pid);

        [LoggerMessage(LogLevel.Warning, "VM {Name}: the VMM refused {Command}")]
        public static partial void CommandFailed(ILogger logger, Exception exception, string name, string command);

        [LoggerMessage(LogLevel.Error, "VM {VmId}: the supervisor failed handling {Message}")]
        public static partial void ActorFailed(ILogger logger, Exception exception, Guid vmId, string message);
    }
}
