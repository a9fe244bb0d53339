using System.Diagnostics;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Platform.Contracts.Config;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Images;
using Platform.Web.Services.Limits;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// Launches the platform-vmm <see cref="VmmProgram"/> chooses: the VM's configuration goes to <c>vm.json</c> in its
/// runtime folder, the VMM starts in its own session (<see cref="VmmProcess"/>), and the launch returns once the
/// control socket answers. A VMM that exits first failed, and its log says why. Each VMM runs in its VM's cgroup
/// (<see cref="VmCgroups"/>), made before it starts and removed when it ends.
/// </summary>
internal sealed class ProcessVmmLauncher(
    VmmProgram program, ImageLibrary images, VmDiskFiles diskFiles, CloudInitService cloudInit, SupervisorOptions options, VmCgroups cgroups,
    DiskOwnerLedger diskOwners) : IVmmLauncher
{
    /// <summary>How often the launch looks for the pid file and the control socket: short, since it is the start's latency.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>How much of vmm.log a failed start's task keeps: more than the one-line reason, which stays short for a snackbar.</summary>
    private const int LogLinesForTask = 20;

    public async Task<IVmmHandle> LaunchAsync(VirtualMachine vm, string runtimeDirectory, CancellationToken cancellationToken)
    {
        var binary = program.Current;
        string vmmPath = binary.Path ?? throw new VmRuntimeException(binary.Reason) { Unavailable = true };
        var config = VmmConfigBuilder.Build(vm, images.PathOf, runtimeDirectory, images.EnsureLinkedClone, diskFiles.PathOf, cloudInit.EnsureSeed);
        Process process;
        long? generation = null;
        // Held until the VMM runs: its shell opens vmm.log through this descriptor (VmmProcess.Start).
        SafeFileHandle? log = null;
        try
        {
            using (var folder = RuntimeFolder.OpenOrCreate(runtimeDirectory))
            {
                if (OperatingSystem.IsLinux())
                {
                    // Back to owner-only: a jailed VM owns its folder and could have opened it to others.
                    File.SetUnixFileMode(runtimeDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
                VmmProcess.RemoveStaleFiles(folder);
                // vm.json is made new through the folder's descriptor: a link planted in its place is replaced, not written through.
                folder.WriteNew(VmConfigFile.FileName, Encoding.UTF8.GetBytes(VmConfigFile.Serialize(config) + "\n"));
                log = VmmProcess.OpenLog(folder);
            }

            string configFile = Path.Combine(runtimeDirectory, VmConfigFile.FileName);
            var cgroupProcs = PrepareCgroup(vm);
            generation = RecordDiskOwners(vm.Id, config);
            process = VmmProcess.Start(
                vmmPath, ["--config", configFile, .. options.Jail.ArgumentsFor(vm.Id, Environment.IsPrivilegedProcess)], log, cgroupProcs, options.VmmEnvironment);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            log?.Dispose();
            diskOwners.Restore(vm.Id, generation);
            throw new VmRuntimeException($"The VMM could not be started: {ex.Message}", ex);
        }

        try
        {
            var handle = await WaitUntilReadyAsync(process, runtimeDirectory, cancellationToken);
            CleanUpWhenEnded(vm.Id, handle, generation);
            return handle;
        }
        catch (OperationCanceledException)
        {
            // Called off (a Stop during the start): the half-started VMM goes too.
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None);
            process.Dispose();
            await cgroups.RemoveAsync(vm.Id);
            diskOwners.Restore(vm.Id, generation);
            throw;
        }
        catch (VmRuntimeException)
        {
            // The VMM is gone (it exited, or was killed when its time was up): so is the jail it gave the disks to.
            await cgroups.RemoveAsync(vm.Id);
            diskOwners.Restore(vm.Id, generation);
            throw;
        }
        finally
        {
            log?.Dispose();
        }
    }

    private IReadOnlyList<string> PrepareCgroup(VirtualMachine vm)
    {
        try
        {
            return cgroups.Prepare(vm);
        }
        catch (IOException ex)
        {
            throw new VmRuntimeException($"The VM's resource limits could not be set: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The group goes with the VMM (a reattached one's too: it was adopted at start-up), and its disks go back to their
    /// owners (<see cref="DiskOwnerLedger"/>). A handle let go of while its VMM runs on (the dashboard stopping) leaves
    /// both for the next dashboard to adopt.
    /// </summary>
    private void CleanUpWhenEnded(Guid vmId, IVmmHandle handle, long? generation) =>
        _ = handle.Ended.ContinueWith(
            _ =>
            {
                if (VmmProcess.IsAlive(handle.Pid))
                {
                    return Task.CompletedTask;
                }

                diskOwners.Restore(vmId, generation);
                return cgroups.RemoveAsync(vmId);
            },
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();

    /// <summary>Writes down the owners of the disks a jailed VMM is about to be given; null when it is not jailed.</summary>
    private long? RecordDiskOwners(Guid vmId, VmConfig config)
    {
        if (!options.Jail.Enabled || !Environment.IsPrivilegedProcess)
        {
            return null;
        }

        // The VMM gives the full path's file (JailDiskFiles), so the same path is written down here.
        return diskOwners.Record(vmId, config.Disks.Where(d => !d.ReadOnly).Select(d => Path.GetFullPath(d.Path)), options.Jail.UidOf(vmId));
    }

    private async Task<IVmmHandle> WaitUntilReadyAsync(Process process, string directory, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        string? unanswered = null;
        while (true)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(CancellationToken.None);
                int code = process.ExitCode;
                process.Dispose();
                throw new VmRuntimeException($"The VMM exited at start (code {code}): {VmmProcess.LogTail(directory)}")
                {
                    VmmLog = VmmProcess.LogTailLines(directory, LogLinesForTask) ?? [],
                };
            }

            // Jailed, the VMM is the child of the process started (its jail's keeper), and vmm.pid names the VMM.
            if (VmmProcess.ReadLivePid(directory) is { } pid && (pid == process.Id || VmmProcess.ParentOf(pid) == process.Id))
            {
                try
                {
                    return await VmmConnection.ConnectAsync(directory, pid, process, cancellationToken);
                }
                catch (VmmControlException ex)
                {
                    // Not listening yet, or listening without a greeting: keep waiting until the start's time is up, then
                    // stop it below. (Thrown on, this once left the VM "starting" for good and its VMM running.)
                    unanswered = ex.Message;
                }
            }

            if (deadline.Elapsed > options.StartTimeout)
            {
                process.Kill();
                string what = unanswered is null ? "open its control socket" : $"answer on its control socket ({unanswered})";
                throw new VmRuntimeException(
                    $"The VMM did not {what} within {options.StartTimeout.TotalSeconds} s and was stopped: {VmmProcess.LogTail(directory)}")
                {
                    VmmLog = VmmProcess.LogTailLines(directory, LogLinesForTask) ?? [],
                };
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    public async Task<IVmmHandle?> TryAttachAsync(string runtimeDirectory, CancellationToken cancellationToken)
    {
        if (VmmProcess.ReadLivePid(runtimeDirectory) is not { } pid)
        {
            return null;
        }

        if (!VmmProcess.IsVmmOf(pid, runtimeDirectory))
        {
            // Not this VM's VMM: a reused pid, or a pid file written to make the dashboard end another process.
            return null;
        }

        try
        {
            var handle = await VmmConnection.ConnectAsync(runtimeDirectory, pid, process: null, cancellationToken);
            if (Guid.TryParseExact(Path.GetFileName(runtimeDirectory), "N", out var vmId))
            {
                CleanUpWhenEnded(vmId, handle, diskOwners.Generation(vmId));
            }

            return handle;
        }
        catch (VmmControlException)
        {
            return null; // The pid was reused by something else, or the VMM is on its way out.
        }
    }

    /// <summary>Also gives back the disks of a VMM that ended while no dashboard watched it.</summary>
    public void RemoveStaleFiles(string runtimeDirectory)
    {
        VmmProcess.RemoveStaleFiles(runtimeDirectory);
        if (Guid.TryParseExact(Path.GetFileName(runtimeDirectory), "N", out var vmId))
        {
            diskOwners.Restore(vmId);
        }
    }
}
