using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Images;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>
/// The image library. Uploads are <c>multipart/form-data</c> read as a stream, never buffered: the text fields
/// <c>kind</c> (kernel, initrd, disk, iso) and optionally <c>sha256</c> come first (or as query parameters), then one
/// file part whose file name becomes the image's name. Past the size limit the answer is 413.
/// </summary>
internal static class ImageEndpoints
{
    /// <summary>Room for the multipart boundaries and headers around the file itself.</summary>
    private const long MultipartOverhead = 1 << 20;

    public static RouteGroupBuilder MapImageEndpoints(this RouteGroupBuilder images)
    {
        const Privileges See = Privileges.ImageUse | Privileges.ImageManage | Privileges.SysAudit;
        images.MapGet("/", ListAsync).WithName("ListImages").WithSummary("Kernels, initrds, disk images and ISO images, with the VMs using each")
            .RequireAnyPrivilege(See);
        images.MapGet("/{id:guid}", GetAsync).WithName("GetImage").Produces<ImageResponse>().ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAnyPrivilege(See);
        images.MapPost("/", UploadAsync).WithName("UploadImage")
            .RequirePrivilege(Privileges.ImageManage, AuditActions.ImageUpload)
            .WithSummary("Upload an image: multipart/form-data with fields kind (kernel, initrd, disk, iso) and sha256 (optional) before the file part")
            .Accepts<IFormFile>("multipart/form-data")
            .Produces<ImageResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status507InsufficientStorage)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        images.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteImage").WithSummary("Delete an image no VM uses")
            .RequirePrivilege(Privileges.ImageManage, AuditActions.ImageDelete)
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return images;
    }

    private static async Task<Ok<List<ImageResponse>>> ListAsync(
        ImageLibrary library, VmService vms, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken)
    {
        var visible = await VisibleVmNamesAsync(vms, permissions, http, cancellationToken);
        return TypedResults.Ok((await library.ListAsync(cancellationToken)).Select(usage => ImageResponse.From(usage, visible)).ToList());
    }

    private static async Task<IResult> GetAsync(
        Guid id, ImageLibrary library, VmService vms, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken) =>
        await library.FindAsync(id, cancellationToken) is { } usage
            ? TypedResults.Ok(ImageResponse.From(usage, await VisibleVmNamesAsync(vms, permissions, http, cancellationToken)))
            : ApiResults.NotFound("image");

    /// <summary>The names of the VMs the caller may see: an image's other users are counted, not named.</summary>
    private static async Task<IReadOnlySet<string>> VisibleVmNamesAsync(
        VmService vms, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken)
    {
        var access = await permissions.GetAccessAsync(http.User, cancellationToken);
        return (await vms.ListAsync(cancellationToken)).Where(vm => access.CanSee(vm.Id)).Select(vm => vm.Name)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    private static async Task<IResult> DeleteAsync(
        Guid id, ImageLibrary library, VmService vms, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken)
    {
        // The library's own refusal names every VM using the image; the caller hears only of those they may see.
        if (await library.FindAsync(id, cancellationToken) is { UsedBy.Count: > 0 } usage)
        {
            var users = ImageResponse.From(usage, await VisibleVmNamesAsync(vms, permissions, http, cancellationToken));
            return TypedResults.Problem($"{usage.Image.FileName} is used by {users.DescribeUsers()}; remove it from them first.",
                statusCode: StatusCodes.Status409Conflict, title: "Conflict");
        }

        var result = await library.DeleteAsync(id, cancellationToken);
        return result.Succeeded ? TypedResults.NoContent() : ApiResults.Problem(result);
    }

    private static async Task<IResult> UploadAsync(HttpContext http, ImageLibrary library, CancellationToken cancellationToken)
    {
        var request = http.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            return TypedResults.Problem("Send the image as multipart/form-data.", statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");
        }

        long limit = library.MaxImageSizeBytes + MultipartOverhead;
        if (request.ContentLength > limit)
        {
            return TooLarge(library);
        }

        // Kestrel's default body limit (30 MB) is for forms, not disk images; ours is counted while streaming.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = limit;
        }

        string? kindText = request.Query["kind"];
        string? sha256 = request.Query["sha256"];
        var reader = new MultipartReader(boundary, request.Body);
        MultipartSection? section;
        while ((section = await reader.ReadNextSectionAsync(cancellationToken)) is not null)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
            {
                continue;
            }

            if (disposition.IsFormDisposition())
            {
                string field = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                string value = await new FormMultipartSection(section, disposition).GetValueAsync(cancellationToken);
                if (field.Equals("kind", StringComparison.OrdinalIgnoreCase))
                {
                    kindText = value;
                }
                else if (field.Equals("sha256", StringComparison.OrdinalIgnoreCase))
                {
                    sha256 = value;
                }

                continue;
            }

            if (!disposition.IsFileDisposition())
            {
                continue;
            }

            if (!Enum.TryParse<ImageKind>(kindText, ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["kind"] = ["Give the kind (kernel, initrd, disk or iso) as a form field before the file, or as ?kind=."],
                });
            }

            string fileName = Path.GetFileName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "");
            var result = await library.UploadAsync(kind, fileName, section.Body, sha256, null, cancellationToken, http.User.UserId());
            if (!result.Succeeded)
            {
                return ApiResults.Problem(result);
            }

            return TypedResults.Created($"{ApiEndpoints.Prefix}/images/{result.Value!.Id}", ImageResponse.From(result.Value, []));
        }

        return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["file"] = ["The request has no file part."] });
    }

    private static ProblemHttpResult TooLarge(ImageLibrary library) => TypedResults.Problem(
        $"The image is larger than the limit of {ImageLibrary.FormatSize(library.MaxImageSizeBytes)}.",
        statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large");
}
