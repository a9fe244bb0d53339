using Platform.Web.Security;
using Platform.Web.Services.History;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>One series of a history answer: its name, unit and a value per timestamp (null where nothing was sampled).</summary>
public sealed record HistorySeriesResponse(string Name, string Unit, string Title, IReadOnlyList<double?> Values);

/// <summary>
/// A VM's or the host's history over one range: <see cref="Timestamps"/> are the starts of the points, each
/// <see cref="StepSeconds"/> wide; each series has a value (the mean over the point) per timestamp.
/// </summary>
public sealed record HistoryResponse(string Range, int StepSeconds, IReadOnlyList<DateTimeOffset> Timestamps, IReadOnlyList<HistorySeriesResponse> Series)
{
    public static HistoryResponse From(HistoryData data) => new(
        data.Range.ToString().ToLowerInvariant(),
        (int)data.Step.TotalSeconds,
        data.Times,
        data.Series.Select((s, i) => new HistorySeriesResponse(s.Name, s.Unit, s.Title, data.Values[i])).ToList());
}

/// <summary><c>GET /api/v1/vms/{id}/history</c> (VM.Audit on the VM) and <c>GET /api/v1/host/history</c> (Sys.Audit).</summary>
internal static class HistoryEndpoints
{
    private const string RangeHelp = "range is one of hour, day, week, month, year (hour unless given).";

    public static RouteGroupBuilder MapVmHistoryEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapGet("/{id:guid}/history", GetVmAsync).WithName("GetVmHistory")
            .WithSummary("The VM's CPU, memory, disk, network and exit rates over an hour, day, week, month or year (VM.Audit)")
            .RequirePrivilege(Privileges.VmAudit)
            .Produces<HistoryResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return vms;
    }

    public static RouteGroupBuilder MapHostHistoryEndpoints(this RouteGroupBuilder host)
    {
        host.MapGet("/history", GetHost).WithName("GetHostHistory")
            .WithSummary("The host's CPU, memory, load, data-folder disk and running VMs over an hour, day, week, month or year (Sys.Audit)")
            .RequirePrivilege(Privileges.SysAudit)
            .Produces<HistoryResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return host;
    }

    private static async Task<IResult> GetVmAsync(Guid id, string? range, VmService vms, HistoryStore store, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (!TryRange(range, out var parsed, out var refused))
        {
            return refused;
        }

        if (await vms.FindAsync(id, cancellationToken) is null)
        {
            return ApiResults.NotFound("VM");
        }

        return TypedResults.Ok(HistoryResponse.From(store.ReadVm(id, parsed, clock.GetUtcNow())));
    }

    private static IResult GetHost(string? range, HistoryStore store, TimeProvider clock) =>
        TryRange(range, out var parsed, out var refused)
            ? TypedResults.Ok(HistoryResponse.From(store.ReadHost(parsed, clock.GetUtcNow())))
            : refused;

    private static bool TryRange(string? value, out HistoryRange range, out IResult refused)
    {
        refused = null!;
        if (value is null)
        {
            range = HistoryRange.Hour;
            return true;
        }

        if (HistoryRanges.TryParse(value, out range))
        {
            return true;
        }

        refused = ApiResults.BadRequest($"Unknown range \"{value}\": {RangeHelp}");
        return false;
    }
}
