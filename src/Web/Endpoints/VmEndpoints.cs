using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Networks;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>
/// VM definitions. Concurrency travels in HTTP headers: GET, POST and PUT answer with <c>ETag: "version"</c>; PUT
/// must send it back in <c>If-Match</c> (428 without it, 409 when someone else saved in between); DELETE may.
/// </summary>
internal static class VmEndpoints
{
    public static RouteGroupBuilder MapVmEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapGet("/", ListAsync).WithName("ListVms").WithSummary("The VMs you may see (VM.Audit), with their power state")
            .RequireSignedIn();
        vms.MapGet("/{id:guid}", GetAsync).WithName("GetVm").WithSummary("One VM; its ETag is the version PUT and DELETE need")
            .RequirePrivilege(Privileges.VmAudit)
            .Produces<VmResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        vms.MapPost("/", CreateAsync).WithName("CreateVm").WithSummary("Create a VM (VM.Allocate on /; Image.Use for library images, User.Manage for host paths)")
            .RequirePrivilege(Privileges.VmAllocate, AuditActions.VmCreate)
            .Produces<VmResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem();
        vms.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateVm").WithSummary("Replace a VM's definition (If-Match required; VM.Config; User.Manage to add host paths)")
            .RequirePrivilege(Privileges.VmConfig, AuditActions.VmUpdate)
            .Produces<VmResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status428PreconditionRequired);
        vms.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteVm")
            .WithSummary("Delete a stopped VM (VM.Allocate) with its own disks (keepOwnDisks=true keeps their files); keepDiskImages=false (Image.Manage) also deletes library disk images no other VM uses")
            .RequirePrivilege(Privileges.VmAllocate, AuditActions.VmDelete)
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return vms;
    }

    private static async Task<Ok<List<VmResponse>>> ListAsync(
        VmService vms, IVmRuntime runtime, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken)
    {
        var access = await permissions.GetAccessAsync(http.User, cancellationToken);
        var list = await vms.ListAsync(cancellationToken);
        return TypedResults.Ok(list.Where(vm => access.CanSee(vm.Id)).Select(vm => VmResponse.From(vm, runtime.GetState(vm.Id))).ToList());
    }

    private static async Task<IResult> GetAsync(Guid id, VmService vms, VmDiskService disks, CloudInitService cloudInit, VmNicLinkService links,
        IVmRuntime runtime, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken)
    {
        var vm = await vms.FindAsync(id, cancellationToken);
        if (vm is null)
        {
            return ApiResults.NotFound("VM");
        }

        SetETag(http, vm.ConcurrencyStamp);
        // A disk's file path names the host's folders, which is the host's administrators' business (as host paths are).
        bool showPaths = await permissions.HasAsync(http.User, HostPaths.Needed, null, cancellationToken);
        return TypedResults.Ok(VmResponse.From(vm, runtime.GetState(id)).WithDetails(disks.Describe(vm), showPaths, cloudInit.DescribeSeed(vm))
            .WithLinks(vm.Nics.Count > 0 ? await links.GetLiveAsync(id, cancellationToken) : null));
    }

    private static async Task<IResult> CreateAsync(
        VmDefinitionInput input, VmService vms, IVmRuntime runtime, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken)
    {
        if (UsesLibraryImages(input) && !await permissions.HasAsync(http.User, Privileges.ImageUse, null, cancellationToken))
        {
            return ImageUseRequired();
        }

        if (await HostPathsRefusedAsync(input, null, permissions, http, cancellationToken) is { } refused)
        {
            return refused;
        }

        var result = await vms.CreateAsync(input, cancellationToken, ownerId: http.User.UserId());
        if (!result.Succeeded)
        {
            return ApiResults.Problem(result);
        }

        var vm = result.Value!;
        SetETag(http, vm.ConcurrencyStamp);
        return TypedResults.Created($"{ApiEndpoints.Prefix}/vms/{vm.Id}", VmResponse.From(vm, runtime.GetState(vm.Id)));
    }

    private static async Task<IResult> UpdateAsync(
        Guid id, VmDefinitionInput input, [FromHeader(Name = "If-Match")] string? ifMatch,
        VmService vms, IVmRuntime runtime, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken)
    {
        if (UsesLibraryImages(input) && !await permissions.HasAsync(http.User, Privileges.ImageUse, null, cancellationToken))
        {
            return ImageUseRequired();
        }

        if (ifMatch is null)
        {
            return TypedResults.Problem(
                "Send the ETag from GET /api/v1/vms/{id} in an If-Match header, so a change someone else saved meanwhile is not overwritten.",
                statusCode: StatusCodes.Status428PreconditionRequired, title: "If-Match required");
        }

        if (ParseETag(ifMatch) is not { } version)
        {
            return ApiResults.BadRequest("If-Match must be the ETag from GET /api/v1/vms/{id}, like \"3f2c…\".");
        }

        if (await HostPathsRefusedAsync(input, await vms.FindAsync(id, cancellationToken), permissions, http, cancellationToken) is { } refused)
        {
            return refused;
        }

        var result = await vms.UpdateAsync(id, input, version, cancellationToken);
        if (!result.Succeeded)
        {
            return ApiResults.Problem(result);
        }

        SetETag(http, result.Value!.ConcurrencyStamp);
        return TypedResults.Ok(VmResponse.From(result.Value, runtime.GetState(id)));
    }

    private static async Task<IResult> DeleteAsync(
        Guid id, [FromHeader(Name = "If-Match")] string? ifMatch, VmService vms, IPermissionService permissions, HttpContext http,
        CancellationToken cancellationToken, bool keepDiskImages = true, bool keepOwnDisks = false)
    {
        if (!keepDiskImages && !await permissions.HasAsync(http.User, Privileges.ImageManage, null, cancellationToken))
        {
            return TypedResults.Problem("Deleting the VM's disk images needs Image.Manage; delete the VM with keepDiskImages=true.",
                statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        Guid? version = null;
        if (ifMatch is not null)
        {
            version = ParseETag(ifMatch);
            if (version is null)
            {
                return ApiResults.BadRequest("If-Match must be the ETag from GET /api/v1/vms/{id}.");
            }
        }

        var result = await vms.DeleteAsync(id, version, keepDiskImages, cancellationToken, keepOwnDisks);
        return result.Succeeded ? TypedResults.NoContent() : ApiResults.Problem(result);
    }

    internal static bool UsesLibraryImages(VmDefinitionInput input) =>
        input.KernelImageId is not null || input.InitrdImageId is not null || input.Disks.Any(d => d.ImageId is not null) || input.Cdrom?.ImageId is not null;

    /// <summary>403 when the input adds host paths (see <see cref="HostPaths"/>) and the caller may not.</summary>
    internal static async Task<ProblemHttpResult?> HostPathsRefusedAsync(
        VmDefinitionInput input, VirtualMachine? current, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken)
    {
        var refusedNetworks = NetworkAccess.Refused(input, current, await permissions.GetAccessAsync(http.User, cancellationToken));
        if (refusedNetworks.Count > 0)
        {
            var names = http.RequestServices.GetRequiredService<NetworkService>();
            var all = await names.ListAsync(cancellationToken);
            return TypedResults.Problem(
                NetworkAccess.Explain(refusedNetworks.Select(id => all.FirstOrDefault(n => n.Id == id)?.Name ?? id.ToString())),
                statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        var added = HostPaths.Added(input, current);
        if (added.Count == 0 || await permissions.HasAsync(http.User, HostPaths.Needed, null, cancellationToken))
        {
            return null;
        }

        return TypedResults.Problem(
            $"Host paths and TAP devices ({string.Join(", ", added)}) reach the host with the dashboard's own rights, so adding one (or making a host disk " +
            $"writable) needs {PrivilegeNames.Format(HostPaths.Needed)}; use images from the library, and ask an administrator for a network.",
            statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
    }

    internal static ProblemHttpResult ImageUseRequired() => TypedResults.Problem(
        "Using images from the library needs Image.Use.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    internal static void SetETag(HttpContext http, Guid version) =>
        http.Response.Headers.ETag = new EntityTagHeaderValue($"\"{version:N}\"").ToString();

    /// <summary>The version in an If-Match value: a strong or weak entity tag holding a GUID; null when it is not one.</summary>
    internal static Guid? ParseETag(string value) =>
        EntityTagHeaderValue.TryParse(value.Trim(), out var tag) && Guid.TryParse(tag.Tag.AsSpan().Trim('"'), out var version)
            ? version
            : null;
}
