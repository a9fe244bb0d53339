namespace Platform.Web.Endpoints;

/// <summary>
/// The API's refusals before any endpoint runs (no or a bad credential, no privilege) as problem details, like every
/// other API error, so a script reads why instead of an empty body.
/// </summary>
internal static class ApiProblems
{
    public static async Task WriteAsync(HttpContext http, int status)
    {
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        // A client that accepts only what no writer speaks (an event stream's Accept: text/event-stream) still gets
        // the status, with the body left empty, rather than a 500 from the writer.
        http.Response.StatusCode = status;
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = status,
                Title = status == StatusCodes.Status401Unauthorized ? "Not signed in" : "Forbidden",
                Detail = status == StatusCodes.Status401Unauthorized
                    ? "Send an API token (Authorization: Bearer plt_…, made on the API tokens page) or sign in; a token that is wrong, revoked or expired counts as none."
                    : "You may not do this.",
            },
        });
    }
}
