using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Platform.Web.Services.Tasks;

namespace Platform.Web.Security;

/// <summary>
/// Names the page's user as the <see cref="TaskActor"/> around every inbound activity of a circuit (a click, an
/// upload's chunk, a JS call), so a task a page's button begins says who pressed it, as an API request's does.
/// The value is an <see cref="AsyncLocal{T}"/>, so it flows into the event handler's awaits and nowhere else.
/// </summary>
internal sealed class TaskActorCircuitHandler(AuthenticationStateProvider authentication) : CircuitHandler
{
    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            var state = await authentication.GetAuthenticationStateAsync();
            using (TaskActor.Use(state.User.Identity?.IsAuthenticated == true ? state.User.Identity.Name : null))
            {
                await next(context);
            }
        };
}
