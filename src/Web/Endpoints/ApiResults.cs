using Platform.Web.Services;

namespace Platform.Web.Endpoints;

/// <summary>Turns a failed <see cref="ServiceResult"/> into the problem details the API answers with.</summary>
internal static class ApiResults
{
    public static IResult Problem(ServiceResult result) => result.Status switch
    {
        ServiceStatus.Invalid => TypedResults.ValidationProblem(result.Errors.ToDictionary(),
            detail: result.Errors.Count == 0 ? result.Message : null, title: "The request has invalid values."),
        ServiceStatus.NotFound => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status404NotFound, title: "Not found"),
        ServiceStatus.Forbidden => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden"),
        ServiceStatus.Conflict => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict"),
        ServiceStatus.TooLarge => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large"),
        ServiceStatus.NoSpace => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status507InsufficientStorage, title: "No room on the host's disk"),
        ServiceStatus.Unavailable => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Unavailable"),
        _ => throw new InvalidOperationException($"{result.Status} is not a failure"),
    };

    public static IResult NotFound(string what) =>
        TypedResults.Problem($"There is no {what} with that id.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static IResult BadRequest(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
}
