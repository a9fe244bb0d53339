using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>
/// Attach a disk to a VM: a new blank one (<see cref="SizeBytes"/>, with <see cref="Format"/> and
/// <see cref="Preallocation"/>), a library image (<see cref="ImageId"/>) or a host file (<see cref="Path"/>); exactly one.
/// </summary>
public sealed record AddDiskRequest(
    long? SizeBytes = null, ImageFormat Format = ImageFormat.Qcow2, DiskPreallocation Preallocation = DiskPreallocation.Off,
    Guid? ImageId = null, bool LinkedClone = true, string? Path = null, bool ReadOnly = false, DiskCacheMode Cache = DiskCacheMode.Writeback,
    DiskBus Bus = DiskBus.Virtio);

/// <summary>A disk's cache mode, read-only flag and bus (virtio|sata); a member left out stays as it is.</summary>
public sealed record UpdateDiskRequest(DiskCacheMode? Cache = null, bool? ReadOnly = null, DiskBus? Bus = null);

public sealed record ResizeDiskRequest(long SizeBytes);

/// <summary>The disks' current indexes in their new order; the first is the boot disk.</summary>
public sealed record ReorderDisksRequest(IReadOnlyList<int> Order);

/// <summary>
/// <c>/api/v1/vms/{id}/disks</c>: attach, detach, change, reorder (on a stopped VM, VM.Config) and grow (stopped or
/// running) a VM's disks through <see cref="VmDiskService"/>. Adding a library image needs Image.Use, a host path (or a
/// host disk made writable) User.Manage, as an edit of the whole definition does. Each answers with the VM as
/// <c>GET /api/v1/vms/{id}</c> shows it, or the grown disk.
/// </summary>
internal static class VmDiskEndpoints
{
    public static RouteGroupBuilder MapVmDiskEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapPost("/{id:guid}/disks", AddAsync).WithName("AddVmDisk")
            .WithSummary("Attach a new blank disk (sizeBytes, format qcow2|raw, preallocation off|metadata|full), a library image or a host path to a stopped VM")
            .RequirePrivilege(Privileges.VmConfig, AuditActions.DiskAdd)
            .Produces<VmResponse>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        vms.MapDelete("/{id:guid}/disks/{index:int}", DetachAsync).WithName("DetachVmDisk")
            .WithSummary("Detach a disk from a stopped VM (a disk of its own is deleted, unless ?keepFile=true)")
            .RequirePrivilege(Privileges.VmConfig, AuditActions.DiskDetach)
            .Produces<VmResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        vms.MapPatch("/{id:guid}/disks/{index:int}", UpdateAsync).WithName("UpdateVmDisk")
            .WithSummary("Change a stopped VM's disk: cache mode (writeback|none), read-only and bus (virtio|sata)")
            .RequirePrivilege(Privileges.VmConfig, AuditActions.DiskUpdate)
            .Produces<VmResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        vms.MapPost("/{id:guid}/disks/order", ReorderAsync).WithName("ReorderVmDisks")
            .WithSummary("Put a stopped VM's disks in a new order (current indexes, the boot disk first)")
            .RequirePrivilege(Privileges.VmConfig, AuditActions.DiskReorder)
            .Produces<VmResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        vms.MapPost("/{id:guid}/disks/{index:int}/resize", ResizeAsync).WithName("ResizeVmDisk")
            .WithSummary("Grow a VM's own disk or linked clone to sizeBytes (whole MiB), stopped or running; shrinking is refused")
            .RequirePrivilege(Privileges.VmConfig, AuditActions.DiskResize)
            .Produces<VmDiskResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return vms;
    }

    private static async Task<IResult> AddAsync(Guid id, AddDiskRequest request, VmDiskService disks, Context context, CancellationToken cancellationToken)
    {
        var disk = new VmDiskInput
        {
            ImageId = request.ImageId, Path = request.Path, LinkedClone = request.LinkedClone, ReadOnly = request.ReadOnly, Cache = request.Cache, Bus = request.Bus,
            Blank = request.SizeBytes is { } size ? new BlankDiskInput { SizeBytes = size, Format = request.Format, Preallocation = request.Preallocation } : null,
        };
        var result = await disks.AddAsync(id, disk, context.Authorize, cancellationToken);
        return await context.AnswerAsync(result, created: true, cancellationToken);
    }

    private static async Task<IResult> DetachAsync(Guid id, int index, VmDiskService disks, Context context, CancellationToken cancellationToken,
        bool keepFile = false) =>
        await context.AnswerAsync(await disks.DetachAsync(id, index, context.Authorize, cancellationToken, keepFile), created: false, cancellationToken);

    private static async Task<IResult> UpdateAsync(Guid id, int index, UpdateDiskRequest request, VmDiskService disks, Context context, CancellationToken cancellationToken)
    {
        if (request.Cache is { } cache && !Enum.IsDefined(cache))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["cache"] = ["Cache mode is writeback or none."] });
        }

        if (request.Bus is { } bus && !Enum.IsDefined(bus))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["bus"] = ["The bus is virtio or sata."] });
        }

        return await context.AnswerAsync(await disks.UpdateAsync(id, index, request.Cache, request.ReadOnly, context.Authorize, cancellationToken, request.Bus),
            created: false, cancellationToken);
    }

    private static async Task<IResult> ReorderAsync(Guid id, ReorderDisksRequest request, VmDiskService disks, Context context, CancellationToken cancellationToken) =>
        await context.AnswerAsync(await disks.ReorderAsync(id, request.Order ?? [], context.Authorize, cancellationToken), created: false, cancellationToken);

    private static async Task<IResult> ResizeAsync(Guid id, int index, ResizeDiskRequest request, VmDiskService disks, IPermissionService permissions,
        HttpContext http, CancellationToken cancellationToken)
    {
        var result = await disks.ResizeAsync(id, index, request.SizeBytes, cancellationToken);
        if (!result.Succeeded)
        {
            return ApiResults.Problem(result);
        }

        bool showPaths = await permissions.HasAsync(http.User, HostPaths.Needed, null, cancellationToken);
        var details = result.Value!;
        return TypedResults.Ok(VmDiskResponse.From(details.Disk) with
        {
            Format = details.Format, VirtualSizeBytes = details.VirtualSizeBytes, AllocatedBytes = details.AllocatedBytes,
            FilePath = showPaths ? details.FilePath : null, Problem = details.Problem,
        });
    }

    /// <summary>What every change needs of the request: the caller's checks of the new definition, and the answer.</summary>
    private sealed class Context(HttpContext http, IPermissionService permissions, IVmRuntime runtime, VmDiskService disks, CloudInitService cloudInit)
    {
        public static ValueTask<Context?> BindAsync(HttpContext http) => ValueTask.FromResult<Context?>(new Context(
            http, http.RequestServices.GetRequiredService<IPermissionService>(), http.RequestServices.GetRequiredService<IVmRuntime>(),
            http.RequestServices.GetRequiredService<VmDiskService>(), http.RequestServices.GetRequiredService<CloudInitService>()));

        /// <summary>A library image the VM did not have needs Image.Use; a new host path (or a host disk made writable) User.Manage.</summary>
        public async Task<string?> Authorize(VmDefinitionInput input, VirtualMachine current)
        {
            bool newImages = input.Disks.Any(d => d.ImageId is { } image && current.Disks.All(c => c.ImageId != image));
            if (newImages && !await permissions.HasAsync(http.User, Privileges.ImageUse, null, http.RequestAborted))
            {
                return VmEndpoints.ImageUseRequired().ProblemDetails.Detail;
            }

            return (await VmEndpoints.HostPathsRefusedAsync(input, current, permissions, http, http.RequestAborted))?.ProblemDetails.Detail;
        }

        /// <summary>The VM as GET shows it; a validation problem's keys of the changed disk lose their <c>disks[N].</c>.</summary>
        public async Task<IResult> AnswerAsync(ServiceResult<VirtualMachine> result, bool created, CancellationToken cancellationToken)
        {
            if (!result.Succeeded)
            {
                return result.Status == ServiceStatus.Invalid
                    ? TypedResults.ValidationProblem(result.Errors.ToDictionary(e => Flatten(e.Key), e => e.Value), title: "The request has invalid values.")
                    : ApiResults.Problem(result);
            }

            var vm = result.Value!;
            VmEndpoints.SetETag(http, vm.ConcurrencyStamp);
            bool showPaths = await permissions.HasAsync(http.User, HostPaths.Needed, null, cancellationToken);
            var response = VmResponse.From(vm, runtime.GetState(vm.Id)).WithDetails(disks.Describe(vm), showPaths, cloudInit.DescribeSeed(vm));
            return created ? TypedResults.Created($"{ApiEndpoints.Prefix}/vms/{vm.Id}", response) : TypedResults.Ok(response);
        }

        /// <summary><c>disks[2].sizeBytes</c> → <c>sizeBytes</c>, <c>disks[2]</c> → <c>disk</c>: the request names one disk.</summary>
        private static string Flatten(string key)
        {
            if (!key.StartsWith("disks[", StringComparison.Ordinal) || key.IndexOf(']', StringComparison.Ordinal) is var end && end < 0)
            {
                return key;
            }

            string rest = key[(end + 1)..];
            return rest.Length == 0 ? "disk" : rest.TrimStart('.');
        }
    }
}
