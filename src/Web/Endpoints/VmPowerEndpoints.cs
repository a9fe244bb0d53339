using Platform.Web.Security;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>
/// <c>POST /vms/{id}/start|shutdown|stop|pause|resume|reset</c> through <see cref="VmPowerService"/>. Answers with the
/// state after the action; 409 when the VM's state forbids it and 503 when the supervisor cannot act, each with the
/// runtime's reason as the problem's detail.
/// </summary>
internal static class VmPowerEndpoints
{
    public const int MaxShutdownTimeoutSeconds = 600;

    public static RouteGroupBuilder MapVmPowerEndpoints(this RouteGroupBuilder vms)
    {
        foreach (var action in Enum.GetValues<VmPowerAction>())
        {
            string verb = action.ToString().ToLowerInvariant();
            vms.MapPost($"/{{id:guid}}/{verb}", (Guid id, VmPowerService power, CancellationToken cancellationToken, int? timeoutSeconds) =>
                    RunAsync(id, action, timeoutSeconds, power, cancellationToken))
                .WithName($"{action}Vm")
                .RequirePrivilege(Privileges.VmPowerMgmt, AuditActions.Power(action.ToString()))
                .WithSummary(action switch
                {
                    VmPowerAction.Start => "Start the VM's VMM",
                    VmPowerAction.Shutdown => "Ask the guest to shut down (Ctrl-Alt-Del), then end the VMM after timeoutSeconds (default 60)",
                    VmPowerAction.Stop => "End the VMM at once, like pulling the plug",
                    VmPowerAction.Pause => "Pause the vCPUs",
                    VmPowerAction.Resume => "Resume paused vCPUs",
                    _ => "Reset the machine",
                })
                .Produces<VmPowerResponse>()
                .ProducesValidationProblem()
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status409Conflict)
                .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        }

        return vms;
    }

    private static async Task<IResult> RunAsync(Guid id, VmPowerAction action, int? timeoutSeconds, VmPowerService power, CancellationToken cancellationToken)
    {
        if (timeoutSeconds is < 1 or > MaxShutdownTimeoutSeconds)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["timeoutSeconds"] = [$"The shutdown timeout is 1 to {MaxShutdownTimeoutSeconds} seconds."],
            });
        }

        var result = await power.RunAsync(id, action, timeoutSeconds is { } s ? TimeSpan.FromSeconds(s) : null, cancellationToken);
        return result.Succeeded ? TypedResults.Ok(new VmPowerResponse(id, result.Value)) : ApiResults.Problem(result);
    }
}
