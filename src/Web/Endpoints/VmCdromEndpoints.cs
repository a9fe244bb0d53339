using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>Put a library ISO image in the drive.</summary>
public sealed record InsertCdromRequest(Guid ImageId);

/// <summary>
/// A VM's CD-ROM drive: <see cref="Present"/> (the definition has one), the disc the definition puts in it, and while the
/// VM runs what its VMM says: <see cref="Running"/>, <see cref="Medium"/> (the library image in the drive now, null when
/// empty), <see cref="Locked"/> (the guest holds the tray).
/// </summary>
public sealed record VmCdromStatusResponse(Guid VmId, bool Present, Guid? ImageId, string? ImageFileName, string? VolumeLabel, bool Running)
{
    /// <summary>Running: the disc in the drive now, as the VMM says (an image not from the library shows as <see cref="OtherMedium"/>).</summary>
    public Guid? MediumImageId { get; init; }

    public string? MediumFileName { get; init; }

    /// <summary>Running: the VMM's drive holds a disc that is not a library image (put there outside the dashboard).</summary>
    public bool OtherMedium { get; init; }

    /// <summary>Running: the guest has locked the tray, so an eject needs <c>force</c>.</summary>
    public bool Locked { get; init; }

    public static VmCdromStatusResponse From(VmCdromView view)
    {
        var vm = view.Vm;
        var response = new VmCdromStatusResponse(vm.Id, vm.HasCdrom, vm.CdromImageId, vm.CdromImage?.FileName, vm.CdromImage?.VolumeLabel, view.Live is not null);
        return view.Live is { } live
            ? response with
            {
                MediumImageId = view.LiveImage?.Id, MediumFileName = view.LiveImage?.FileName,
                OtherMedium = live.Medium is not null && view.LiveImage is null, Locked = live.Locked,
            }
            : response;
    }
}

/// <summary>
/// <c>/api/v1/vms/{id}/cdrom</c>: the drive (VM.Audit), Insert (<c>PUT …/medium</c>) and Eject (<c>DELETE …/medium</c>),
/// which need VM.Config.CDROM on the VM (VMAdmin and VMUser have it, as Proxmox's PVEVMUser has its namesake) and, to
/// insert a library image, Image.Use. On a running VM the VMM changes the disc first (<see cref="VmCdromService"/>).
/// Adding or removing the drive itself is an edit of the definition (VM.Config).
/// </summary>
internal static class VmCdromEndpoints
{
    public static RouteGroupBuilder MapVmCdromEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapGet("/{id:guid}/cdrom", GetAsync).WithName("GetVmCdrom")
            .WithSummary("The VM's CD-ROM drive: the disc its definition has and, while it runs, the one its VMM has")
            .RequirePrivilege(Privileges.VmAudit)
            .Produces<VmCdromStatusResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        vms.MapPut("/{id:guid}/cdrom/medium", InsertAsync).WithName("InsertVmCdrom")
            .WithSummary("Put a library ISO image (imageId) in the VM's CD-ROM drive, running or not")
            .RequirePrivilege(Privileges.VmConfigCdrom, AuditActions.CdromInsert)
            .Produces<VmCdromStatusResponse>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        vms.MapDelete("/{id:guid}/cdrom/medium", EjectAsync).WithName("EjectVmCdrom")
            .WithSummary("Take the disc out of the VM's CD-ROM drive (?force=true while the guest has locked the tray)")
            .RequirePrivilege(Privileges.VmConfigCdrom, AuditActions.CdromEject)
            .Produces<VmCdromStatusResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return vms;
    }

    private static async Task<IResult> GetAsync(Guid id, VmCdromService cdrom, CancellationToken cancellationToken) =>
        await cdrom.GetAsync(id, cancellationToken) is { } view ? TypedResults.Ok(VmCdromStatusResponse.From(view)) : ApiResults.NotFound("VM");

    private static async Task<IResult> InsertAsync(Guid id, InsertCdromRequest request, VmCdromService cdrom, IPermissionService permissions,
        HttpContext http, CancellationToken cancellationToken)
    {
        if (!await permissions.HasAsync(http.User, Privileges.ImageUse, null, cancellationToken))
        {
            return VmEndpoints.ImageUseRequired();
        }

        return await AnswerAsync(id, await cdrom.InsertAsync(id, request.ImageId, cancellationToken), cdrom, cancellationToken);
    }

    private static async Task<IResult> EjectAsync(Guid id, VmCdromService cdrom, CancellationToken cancellationToken, bool force = false) =>
        await AnswerAsync(id, await cdrom.EjectAsync(id, force, cancellationToken), cdrom, cancellationToken);

    private static async Task<IResult> AnswerAsync(Guid id, ServiceResult result, VmCdromService cdrom, CancellationToken cancellationToken)
    {
        if (!result.Succeeded)
        {
            return result.Status == ServiceStatus.Invalid
                ? TypedResults.ValidationProblem(result.Errors.ToDictionary(), title: "The request has invalid values.")
                : ApiResults.Problem(result);
        }

        return await cdrom.GetAsync(id, cancellationToken) is { } view ? TypedResults.Ok(VmCdromStatusResponse.From(view)) : ApiResults.NotFound("VM");
    }
}
