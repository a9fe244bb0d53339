using System.Diagnostics;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Supervisor;

/// <summary>One running platform-vmm as the supervisor follows it: its process, its control connection, what it said last.</summary>
internal sealed class SupervisedVmm(Guid vmId, string name, string runtimeDirectory, int pid, Process? process, VmmControlClient client)
{
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Guid VmId { get; } = vmId;

    public string Name { get; } = name;

    public string RuntimeDirectory { get; } = runtimeDirectory;

    public int Pid { get; } = pid;

    /// <summary>The child process when this dashboard started it; null after a reattach (then there is no exit code).</summary>
    public Process? Process { get; } = process;

    public VmmControlClient Client { get; set; } = client;

    public VmPowerState State { get; set; } = VmPowerState.Running;

    /// <summary>The reason of the SHUTDOWN event, once the VMM announced its end.</summary>
    public string? ShutdownReason { get; set; }

    /// <summary>The detail of a GUEST_PANICKED event.</summary>
    public string? PanicDetail { get; set; }

    /// <summary>A graceful shutdown was asked for: a guest that answers Ctrl-Alt-Del by rebooting is then ended.</summary>
    public bool ShutdownRequested { get; set; }

    /// <summary>A user asked for Stop or Shutdown: however the VMM ends now, the on-crash policy never restarts it.</summary>
    public bool StopRequested { get; set; }

    /// <summary>The dashboard is stopping and let go of this VMM on purpose: its end is not to be recorded.</summary>
    public bool Detached { get; set; }

    /// <summary>Completes when the VMM is gone and the supervisor has recorded how it ended.</summary>
    public Task Ended => _ended.Task;

    public void MarkEnded() => _ended.TrySetResult();

    public string SocketPath(string name) => Path.Combine(RuntimeDirectory, name);
}
