using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Images;
using Platform.Web.Services.Tasks;

namespace Platform.Web.Services.Vms;

public sealed partial class VmService
{
    /// <summary>
    /// What saving a definition does to disk files: the blank disks to make before the rows are committed, the own disks
    /// whose files go once they are, and each disk's final position.
    /// </summary>
    private sealed record DiskPlan(
        IReadOnlyList<(VmDisk Disk, int Position)> Order,
        IReadOnlyList<(VmDisk Disk, BlankDiskInput Blank)> Blanks,
        IReadOnlyList<VmDisk> Removed)
    {
        /// <summary>Files made before the VM (a clone's disks), moved into its folder as it is saved.</summary>
        public IReadOnlyList<(VmDisk Disk, AdoptedDisk File)> Adopted { get; init; } = [];
    }

    /// <summary>
    /// Matches the input's disks to the VM's rows — by id first, then (an image or path disk without an id) the row at
    /// its position that is not an own disk — so a disk keeps its own file and its linked-clone overlay wherever it
    /// moves. Unmatched rows are removed; blank disks get new rows with their file names. Positions are set negative
    /// here, so no two rows share one while they move; <see cref="SaveWithDisksAsync"/> sets the final ones.
    /// </summary>
    private static DiskPlan ApplyDisks(PlatformDbContext db, VirtualMachine vm, VmDefinitionInput input)
    {
        static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

        var existing = vm.Disks.ToList();
        var rows = new VmDisk?[input.Disks.Count];
        var claimed = new HashSet<Guid>();
        for (int i = 0; i < input.Disks.Count; i++)
        {
            if (input.Disks[i].Id is { } id && input.Disks[i].Blank is null && existing.FirstOrDefault(d => d.Id == id) is { } row && claimed.Add(id))
            {
                rows[i] = row;
            }
        }

        for (int i = 0; i < input.Disks.Count; i++)
        {
            if (rows[i] is null && input.Disks[i] is { Id: null, Blank: null, Adopt: null }
                && existing.FirstOrDefault(d => d.Position == i && d.FileName is null && !claimed.Contains(d.Id)) is { } row)
            {
                rows[i] = row;
                claimed.Add(row.Id);
            }
        }

        var order = new List<(VmDisk, int)>();
        var blanks = new List<(VmDisk, BlankDiskInput)>();
        var adopted = new List<(VmDisk, AdoptedDisk)>();
        for (int i = 0; i < input.Disks.Count; i++)
        {
            var wanted = input.Disks[i];
            var disk = rows[i];
            if (disk is null)
            {
                disk = new VmDisk { VirtualMachineId = vm.Id };
                // Added explicitly: a child found through the navigation with its Guid already set would be taken
                // for an existing row and UPDATEd.
                vm.Disks.Add(disk);
                db.VmDisks.Add(disk);
            }

            disk.Position = -1 - i;
            disk.ReadOnly = wanted.ReadOnly;
            disk.Cache = wanted.Cache;
            disk.Bus = wanted.Bus;
            disk.MaxBytesPerSecond = wanted.MaxBytesPerSecond;
            disk.MaxIops = wanted.MaxIops;
            if (wanted.Blank is { } blank)
            {
                disk.FileName = VmDiskFiles.FileNameFor(disk.Id, blank.Format);
                disk.Format = blank.Format;
                blanks.Add((disk, blank));
            }
            else if (wanted.Adopt is { } file)
            {
                disk.FileName = VmDiskFiles.FileNameFor(disk.Id, file.Format);
                disk.Format = file.Format;
                adopted.Add((disk, file));
            }

            if (disk.FileName is null)
            {
                disk.ImageId = wanted.ImageId;
                disk.Path = disk.ImageId is null ? Text(wanted.Path) : null;
                disk.LinkedClone = disk.ImageId is not null && wanted.LinkedClone;
            }

            order.Add((disk, i));
        }

        var removed = existing.Where(d => !claimed.Contains(d.Id)).ToList();
        foreach (var extra in removed)
        {
            vm.Disks.Remove(extra);
            db.VmDisks.Remove(extra);
        }

        return new DiskPlan(order, blanks, removed.Where(d => d.FileName is not null).ToList()) { Adopted = adopted };
    }

    /// <summary>
    /// Makes the blank disks, then saves in one transaction in two steps (rows at their temporary negative positions,
    /// then at their final ones, since SQLite checks the unique position of each row as it is written); deletes the
    /// files of removed own disks once committed, and the new blank disks' files if anything failed.
    /// </summary>
    private async Task<ServiceResult<VirtualMachine>?> SaveWithDisksAsync(
        PlatformDbContext db, VmDefinitionInput input, DiskPlan plan, CancellationToken cancellationToken)
    {
        var made = new List<string>();
        bool committed = false;
        try
        {
            foreach (var (disk, blank) in plan.Blanks)
            {
                int position = plan.Order.First(o => o.Disk == disk).Position;
                using var task = tasks.Begin(TaskActions.DiskCreate, disk.VirtualMachineId, $"disk {position}", input.Name);
                task.Log($"Blank {ImageLibrary.FormatName(blank.Format)} disk of {ImageLibrary.FormatSize(blank.SizeBytes)} for {input.Name}");
                try
                {
                    made.Add(diskFiles.CreateBlank(disk, blank));
                    task.Succeed($"made {made[^1]}");
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    task.Fail($"The new disk could not be made: {ex.Message}");
                    return ServiceResult<VirtualMachine>.Invalid(new Dictionary<string, string[]>
                    {
                        [$"disks[{plan.Order.First(o => o.Disk == disk).Position}].sizeBytes"] = [$"The new disk could not be made: {ex.Message}"],
                    });
                }
            }

            foreach (var (disk, file) in plan.Adopted)
            {
                string path = diskFiles.PathOf(disk);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.Move(file.Path, path);
                made.Add(path);
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (await SaveAsync(db, input, cancellationToken) is { } failure)
            {
                return failure;
            }

            if (plan.Order.Count > 0)
            {
                foreach (var (disk, position) in plan.Order)
                {
                    disk.Position = position;
                }

                await db.SaveChangesAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            committed = true;
        }
        finally
        {
            if (!committed)
            {
                diskFiles.Delete(made);
            }
        }

        if (!input.KeepRemovedFiles)
        {
            diskFiles.Delete(plan.Removed.Select(diskFiles.PathOf));
        }

        return null;
    }
}
