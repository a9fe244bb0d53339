using System.Collections.Concurrent;
using Platform.Devices.Virtio.Block.Qcow2;
using Platform.Web.Data;
using Platform.Web.Extensions;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Images;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Vms;

/// <summary>
/// Makes a new VM from a stopped one: the same hardware, fresh MACs, no port forwards (their host ports are the source's),
/// its cloud-init settings, and its disks either copied whole (<see cref="CloneMode.Full"/>, in the background with
/// progress and cancel, <see cref="DiskCopier"/>) or, from a template, as linked clones (<see cref="CloneMode.Linked"/>:
/// qcow2 overlays of the template's disks, made at once). Disks are made in a staging folder beside the VMs' own
/// (<c>disks/.clone-{job}/</c>) and moved into the new VM's folder as it is saved; a failure or a cancel deletes the
/// staging folder and leaves no VM, so nothing is ever half-made (a dashboard that ended mid-clone leaves it for
/// <see cref="CloneStagingSweeper"/> at the next start).
/// </summary>
public sealed class VmCloneService(
    VmService vms, IVmRuntime runtime, VmDiskService disks, VmDiskFiles diskFiles, ImageLibrary images, IVmEventLog events,
    PlatformOptions options, ILogger<VmCloneService> logger, Quotas.QuotaService? quotas = null)
{
    /// <summary>Finished jobs stay visible this long (the page and the API read their outcome).</summary>
    private static readonly TimeSpan KeepFinished = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<Guid, CloneJob> _jobs = new();
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _cancellations = new();

    public CloneJob? Find(Guid sourceVmId, Guid jobId) =>
        _jobs.TryGetValue(jobId, out var job) && job.SourceVmId == sourceVmId ? job : null;

    /// <summary>The jobs of <paramref name="sourceVmId"/>, newest first.</summary>
    public IReadOnlyList<CloneJob> JobsOf(Guid sourceVmId) => [.. _jobs.Values.Where(j => j.SourceVmId == sourceVmId).OrderByDescending(j => j.StartedAt)];

    /// <summary>Whether a clone is copying <paramref name="vmId"/>'s disks now.</summary>
    public bool IsCopying(Guid vmId) => _jobs.Values.Any(j => j.SourceVmId == vmId && j.State == CloneJobState.Running);

    /// <summary>Asks a running job to stop; it cleans up and ends Cancelled (or ends as it would have, if it was past its last copy).</summary>
    public ServiceResult Cancel(Guid sourceVmId, Guid jobId)
    {
        if (Find(sourceVmId, jobId) is not { } job)
        {
            return ServiceResult.Fail(ServiceStatus.NotFound, "There is no such clone of this VM (finished jobs are kept for an hour).");
        }

        if (job.State != CloneJobState.Running)
        {
            return ServiceResult.Fail(ServiceStatus.Conflict, $"The clone {job.Name} has ended already ({job.State.ToString().ToLowerInvariant()}).");
        }

        try
        {
            if (_cancellations.TryGetValue(jobId, out var cancellation))
            {
                cancellation.Cancel();
            }
        }
        catch (ObjectDisposedException)
        {
            // It ended just now.
        }

        return ServiceResult.Ok();
    }

    /// <summary>
    /// Checks the request and starts the job: a full copy runs in the background (follow the job), a linked clone is
    /// done when this returns. <paramref name="onChanged"/> is subscribed before the copy starts.
    /// </summary>
    /// <param name="ownerId">Who the clone will belong to (who asked for it): its quotas count it, and refuse a clone
    /// that would not fit before anything is copied.</param>
    public async Task<ServiceResult<CloneJob>> StartAsync(Guid sourceVmId, string name, CloneMode mode, string? userName,
        CancellationToken cancellationToken, Action<CloneJob>? onChanged = null, string? ownerId = null)
    {
        Forget();
        var source = await vms.FindAsync(sourceVmId, cancellationToken);
        if (source is null)
        {
            return ServiceResult<CloneJob>.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted.");
        }

        var state = runtime.GetState(sourceVmId);
        if (state is not (VmPowerState.Stopped or VmPowerState.Crashed))
        {
            return ServiceResult<CloneJob>.Fail(ServiceStatus.Conflict,
                $"{source.Name} is {state.ToString().ToLowerInvariant()}; a VM is cloned while it is stopped, so its disks do not change under the copy.");
        }

        if (mode == CloneMode.Linked && !source.IsTemplate)
        {
            return ServiceResult<CloneJob>.Fail(ServiceStatus.Conflict,
                $"{source.Name} is not a template. A linked clone needs a base that never changes: mark it as a template first, or make a full copy.");
        }

        if (IsCopying(sourceVmId))
        {
            return ServiceResult<CloneJob>.Fail(ServiceStatus.Conflict, $"{source.Name} is being cloned already; wait for that copy or cancel it.");
        }

        var input = VmDefinitionInput.From(source);
        input.Name = name?.Trim() ?? "";
        input.Autostart = false;
        // Its disks are made here, by this dashboard: it is this host's VM, whichever host runs the source.
        input.Host = null;
        foreach (var nic in input.Nics)
        {
            nic.MacAddress = null;
            nic.PortForwards = [];
        }

        // Checked before anything is copied: the name, and all but the disks (made below) the new definition must pass.
        var precheck = VmDefinitionInput.From(source);
        precheck.Name = input.Name;
        precheck.Nics = input.Nics;
        precheck.Disks = [];
        var errors = (await vms.ValidateAsync(precheck, null, cancellationToken))
            .Where(e => !e.Key.StartsWith("disks", StringComparison.Ordinal)).ToDictionary(e => e.Key, e => e.Value);
        if (errors.Count > 0)
        {
            return ServiceResult<CloneJob>.Invalid(errors);
        }

        var plan = new List<(int Index, string Source, ImageFormat? Format, long Size)>();
        var ordered = source.Disks.OrderBy(d => d.Position).ToList();
        for (int i = 0; i < ordered.Count; i++)
        {
            var disk = ordered[i];
            string file = disks.FileOf(disk);
            ImageFormat? format = disk.FileName is not null ? disk.Format ?? ImageFormat.Qcow2 : disk.LinkedClone ? ImageFormat.Qcow2 : disk.Image?.Format;
            if (disk.LinkedClone && !File.Exists(file) && disk.Image is { } baseImage)
            {
                // Never started: the overlay is not made yet, and the disk is the base as it is.
                (file, format) = (images.PathOf(baseImage), baseImage.Format);
                if (mode == CloneMode.Linked)
                {
                    continue; // a linked clone of the same image, as the template has it
                }
            }

            if (mode == CloneMode.Linked && disk.FileName is null && !disk.LinkedClone)
            {
                if (!disk.ReadOnly)
                {
                    return ServiceResult<CloneJob>.Fail(ServiceStatus.Conflict, disk.Image is { } image
                        ? $"Disk {i} is the library image {image.FileName}, attached writable: a linked clone cannot share it. Make a full copy."
                        : $"Disk {i} is the host file {disk.Path}, attached writable: a linked clone cannot share it. Make a full copy.");
                }

                continue; // read-only: shared as it is
            }

            if (!File.Exists(file))
            {
                return ServiceResult<CloneJob>.Fail(ServiceStatus.Conflict, $"Disk {i}'s file {file} does not exist (moved or deleted?).");
            }

            try
            {
                plan.Add((i, file, format, DiskCopier.SizeOf(file, format)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return ServiceResult<CloneJob>.Fail(ServiceStatus.Conflict, $"Disk {i} cannot be read: {ex.Message}");
            }
        }

        // A clone is a new VM of its owner's: its vCPUs, memory and disks (full copies, or linked clones counted at
        // their base's size, as QuotaService counts them) must fit, or nothing is copied.
        var demand = new Quotas.QuotaAmounts(1, input.VcpuCount, input.MemoryMiB, plan.Sum(p => p.Size));
        if (quotas is not null && await quotas.CheckAsync(ownerId, demand, $"the clone {input.Name}", cancellationToken) is { } refused)
        {
            return ServiceResult<CloneJob>.Fail(ServiceStatus.Forbidden, refused);
        }

        long total = mode == CloneMode.Full ? plan.Sum(p => p.Size) : 0;
        if (total > 0 && diskFiles.CheckSpace(total) is { } space)
        {
            return ServiceResult<CloneJob>.Fail(ServiceStatus.NoSpace, space);
        }

        var job = new CloneJob { SourceVmId = source.Id, SourceName = source.Name, Name = input.Name, Mode = mode, TotalBytes = total, StartedBy = userName };
        if (onChanged is not null)
        {
            job.Follow(onChanged);
        }

        _jobs[job.Id] = job;
        var cancellation = new CancellationTokenSource();
        _cancellations[job.Id] = cancellation;
        var run = Task.Run(() => RunAsync(job, source, input, plan, ownerId, cancellation.Token));
        if (mode == CloneMode.Linked)
        {
            await run;
        }

        return ServiceResult<CloneJob>.Ok(job);
    }

    private async Task RunAsync(CloneJob job, VirtualMachine source, VmDefinitionInput input, List<(int Index, string Source, ImageFormat? Format, long Size)> plan,
        string? ownerId, CancellationToken token)
    {
        string staging = Path.Combine(options.DisksDirectory, $"{CloneStagingSweeper.Prefix}{job.Id:N}");
        try
        {
            Directory.CreateDirectory(staging);
            foreach (var (index, file, format, size) in plan)
            {
                string made = Path.Combine(staging, $"{index}.qcow2");
                if (job.Mode == CloneMode.Full)
                {
                    DiskCopier.Copy(file, format, made, new JobProgress(job), token);
                }
                else
                {
                    // The overlay names its base relative to its folder: disks/{vm}/ and disks/.clone-{job}/ are both
                    // beside disks/{template}/, so the name holds in either.
                    Qcow2Creator.Create(made, size, Path.GetRelativePath(staging, file), format == ImageFormat.Raw
                        ? Platform.Devices.Virtio.Block.DiskImageFormat.Raw : Platform.Devices.Virtio.Block.DiskImageFormat.Qcow2);
                }

                var original = input.Disks[index];
                input.Disks[index] = new VmDiskInput { Adopt = new AdoptedDisk(made, ImageFormat.Qcow2), ReadOnly = original.ReadOnly, Cache = original.Cache, Bus = original.Bus };
            }

            // Past the last copy a cancel no longer applies: the VM is saved whole or not at all.
            token.ThrowIfCancellationRequested();
            foreach (var disk in input.Disks.Where(d => d.Adopt is null))
            {
                disk.Id = null; // an image or path disk of the source: a new row of the clone's
            }

            var created = await vms.CreateAsync(input, CancellationToken.None,
                templateId: job.Mode == CloneMode.Linked ? source.Id : null, cloudInit: source.CloudInit, ownerId: ownerId);
            if (!created.Succeeded)
            {
                string reason = created.Errors.Count > 0 ? string.Join(" ", created.Errors.SelectMany(e => e.Value)) : created.Message ?? "";
                await FinishAsync(job, CloneJobState.Failed, $"{job.Name} could not be saved: {reason}");
                return;
            }

            await FinishAsync(job, CloneJobState.Succeeded,
                job.Mode == CloneMode.Full
                    ? $"Made {job.Name} from {source.Name}: a full copy of {plan.Count} disk{(plan.Count == 1 ? "" : "s")} ({ImageLibrary.FormatSize(job.TotalBytes)})."
                    : $"Made {job.Name} from the template {source.Name}: {plan.Count} linked clone{(plan.Count == 1 ? "" : "s")} of its disks.",
                created.Value!.Id);
        }
        catch (OperationCanceledException)
        {
            await FinishAsync(job, CloneJobState.Cancelled, $"Cloning {source.Name} as {job.Name} was cancelled; nothing was kept.");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever went wrong (the disk, the database), the job ends and says so: it never stays "running".
            logger.LogWarning(ex, "Cloning {Source} as {Name} failed", source.Name, job.Name);
            await FinishAsync(job, CloneJobState.Failed, $"Cloning {source.Name} as {job.Name} failed: {ex.Message} Nothing was kept.");
        }
        finally
        {
            if (_cancellations.TryRemove(job.Id, out var cancellation))
            {
                cancellation.Dispose();
            }

            try
            {
                if (Directory.Exists(staging))
                {
                    Directory.Delete(staging, recursive: true);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(ex, "Could not delete the clone staging folder {Folder}", staging);
            }
        }
    }

    private async Task FinishAsync(CloneJob job, CloneJobState state, string message, Guid? newVmId = null)
    {
        await events.AddAsync(new VmEvent
        {
            VmId = job.SourceVmId, VmName = job.SourceName, Kind = VmEventKinds.Clone,
            Result = state == CloneJobState.Succeeded ? VmEventResult.Succeeded : VmEventResult.Failed, Message = message,
        }, CancellationToken.None);
        job.Finish(state, message, newVmId);
    }

    private void Forget()
    {
        foreach (var job in _jobs.Values.Where(j => j.FinishedAt is { } at && DateTimeOffset.UtcNow - at > KeepFinished))
        {
            _jobs.TryRemove(job.Id, out _);
        }
    }

    /// <summary>Reports bytes as they go through, on the copying thread (not posted to a context as <see cref="Progress{T}"/> is).</summary>
    private sealed class JobProgress(CloneJob job) : IProgress<long>
    {
        private long _last;

        public void Report(long value)
        {
            job.Advance(value - _last);
            _last = value;
        }
    }
}
