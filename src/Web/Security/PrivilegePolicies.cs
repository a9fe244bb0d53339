using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Platform.Web.Security;

/// <summary>
/// Authorization policies named <c>privilege:UserManage</c> and so on, for <c>[Authorize(Policy = ...)]</c> on pages:
/// the privilege on <c>/</c>, asked of <see cref="IPermissionService"/>.
/// </summary>
public static class PrivilegePolicies
{
    public const string Prefix = "privilege:";
    public const string UserManage = Prefix + nameof(Privileges.UserManage);
    public const string SysAudit = Prefix + nameof(Privileges.SysAudit);
    public const string ImageAny = Prefix + "ImageAny";

    /// <summary>"VM.Config and Image.Use", for a message.</summary>
    public static string Describe(Privileges privileges) => PrivilegeNames.Format(privileges).Replace(", ", " and ", StringComparison.Ordinal);

    /// <summary>The name of the policy for <paramref name="privileges"/> on <c>/</c>.</summary>
    public static string For(Privileges privileges) => Prefix + privileges.ToString().Replace(", ", "|", StringComparison.Ordinal);
}

internal sealed record RootPrivilegeRequirement(Privileges Privileges, bool Any) : IAuthorizationRequirement;

internal sealed class RootPrivilegeHandler(IPermissionService permissions) : AuthorizationHandler<RootPrivilegeRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, RootPrivilegeRequirement requirement)
    {
        var access = await permissions.GetAccessAsync(context.User);
        if (requirement.Any ? access.HasAny(requirement.Privileges) : access.Has(requirement.Privileges))
        {
            context.Succeed(requirement);
        }
    }
}

internal sealed class PrivilegePolicyProvider(IOptions<AuthorizationOptions> options) : DefaultAuthorizationPolicyProvider(options)
{
    public override async Task<AuthorizationPolicy?> GetPolicyAsync(string policyName)
    {
        if (!policyName.StartsWith(PrivilegePolicies.Prefix, StringComparison.Ordinal))
        {
            return await base.GetPolicyAsync(policyName);
        }

        string names = policyName[PrivilegePolicies.Prefix.Length..];
        var requirement = names == "ImageAny"
            ? new RootPrivilegeRequirement(Privileges.ImageUse | Privileges.ImageManage | Privileges.SysAudit, Any: true)
            : Enum.TryParse<Privileges>(names.Replace("|", ", ", StringComparison.Ordinal), out var privileges)
                ? new RootPrivilegeRequirement(privileges, Any: false)
                : null;
        return requirement is null ? null : new AuthorizationPolicyBuilder().RequireAuthenticatedUser().AddRequirements(requirement).Build();
    }
}
