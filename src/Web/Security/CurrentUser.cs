using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>
/// The signed-in user of a page (static or interactive), for the server-side checks behind every button: a page
/// hides what <see cref="UserAccess"/> does not allow, and its handler calls <see cref="CheckAsync"/> before acting,
/// which writes a refusal to the audit log. Scoped: one per circuit or request.
/// </summary>
public sealed class CurrentUser(AuthenticationStateProvider authentication, IPermissionService permissions, IAuditLog audit, IHttpContextAccessor http)
{
    /// <summary>The browser's address; set from the page request, since an interactive circuit has none of its own.</summary>
    public string? ClientAddress { get; set; }

    public async Task<ClaimsPrincipal> GetPrincipalAsync() => (await authentication.GetAuthenticationStateAsync()).User;

    public async Task<UserAccess> GetAccessAsync(CancellationToken cancellationToken = default) =>
        await permissions.GetAccessAsync(await GetPrincipalAsync(), cancellationToken);

    public async Task<bool> HasAsync(Privileges privileges, Guid? vmId = null) => (await GetAccessAsync()).Has(privileges, vmId);

    public async Task<AuditActor> GetActorAsync() =>
        AuditActor.From(await GetPrincipalAsync(), ClientAddress ?? http.HttpContext?.Connection.RemoteIpAddress?.ToString());

    /// <summary>Whether the user has <paramref name="privileges"/> now (on the VM, or <c>/</c>); a refusal is audited as
    /// <paramref name="action"/>.</summary>
    public async Task<bool> CheckAsync(Privileges privileges, Guid? vmId, string action, string? target = null)
    {
        var access = await GetAccessAsync();
        if (access.Has(privileges, vmId))
        {
            return true;
        }

        await audit.AddAsync(await GetActorAsync(), action, AuditResult.Denied, vmId, target, $"needs {PrivilegeNames.Format(privileges)} (page)");
        return false;
    }

    /// <summary>Writes what the user did (or failed to do) to the audit log.</summary>
    public async Task AuditAsync(string action, AuditResult result, Guid? vmId = null, string? target = null, string? detail = null) =>
        await audit.AddAsync(await GetActorAsync(), action, result, vmId, target, detail);
}
