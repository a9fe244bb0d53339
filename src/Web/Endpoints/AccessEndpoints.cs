using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.Web.Endpoints;

public sealed record UserResponse(string Id, string UserName, bool Disabled, bool LockedOut, bool TwoFactor, bool MustChangePassword, IReadOnlyList<string> Groups)
{
    public static UserResponse From(UserSummary u) => new(u.Id, u.UserName, u.Disabled, u.LockedOut, u.TwoFactor, u.MustChangePassword, u.Groups);
}

/// <summary>A new user; they must change <paramref name="Password"/> at the first sign-in.</summary>
public sealed record CreateUserRequest(string UserName, string Password);

/// <summary>What can change about a user: disabled ends their sessions, consoles and tokens within seconds.</summary>
public sealed record UpdateUserRequest(bool? Disabled);

/// <summary>A new password for a user, or none to have one generated; either way they must change it next time.</summary>
public sealed record ResetPasswordRequest(string? Password);

/// <summary>A generated one-time password: in this answer only.</summary>
public sealed record ResetPasswordResponse(string Password);

public sealed record GroupResponse(Guid Id, string Name, string? Description, IReadOnlyList<string> MemberIds)
{
    public static GroupResponse From(AccessGroup g) => new(g.Id, g.Name, g.Description, g.Members.Select(m => m.UserId).ToList());
}

public sealed record CreateGroupRequest(string Name, string? Description);

public sealed record RoleResponse(Guid Id, string Name, string? Description, IReadOnlyList<string> Privileges, bool BuiltIn)
{
    public static RoleResponse From(AccessRole r) =>
        new(r.Id, r.Name, r.Description, PrivilegeNames.Split(r.Privileges).Select(PrivilegeNames.Name).ToList(), r.BuiltIn);
}

/// <summary>A custom role: <c>privileges</c> by name (<c>VM.Audit</c>…).</summary>
public sealed record SaveRoleRequest(string Name, IReadOnlyList<string> Privileges, string? Description);

/// <summary>A grant as listed: <see cref="Subject"/> is the user's or group's name, <see cref="Path"/> <c>/</c> or <c>/vms/{id}</c>.</summary>
public sealed record GrantResponse(Guid Id, string Subject, bool ToGroup, string Path, string? VmName, string Role)
{
    public static GrantResponse From(GrantSummary g) => new(g.Id, g.Subject, g.ToGroup, g.Path, g.VmName, g.Role);
}

/// <summary>Grants a role to exactly one of a user or a group, on one VM, on one network, or (neither) on <c>/</c>.</summary>
public sealed record CreateGrantRequest(string? UserId, Guid? GroupId, Guid? VmId, Guid RoleId, Guid? NetworkId = null);

/// <summary>
/// Users, groups, roles and grants (User.Manage on <c>/</c>): what the administration page does, for scripts. Every
/// change goes through <see cref="AccessAdministration"/>, which checks the rules (built-in roles stay, nobody
/// removes the last administrator), audits it and ends what the change revokes within seconds.
/// </summary>
internal static class AccessEndpoints
{
    public static RouteGroupBuilder MapUserEndpoints(this RouteGroupBuilder users)
    {
        users.MapGet("/", async (AccessAdministration admin, CancellationToken cancellationToken) =>
                TypedResults.Ok((await admin.ListUsersAsync(cancellationToken)).Select(UserResponse.From).ToList()))
            .WithName("ListUsers").WithSummary("Every user (User.Manage)")
            .RequireUserManage();
        users.MapPost("/", async (CreateUserRequest request, AccessAdministration admin, HttpContext http, CancellationToken cancellationToken) =>
            {
                var result = await admin.CreateUserAsync(AuditActor.From(http), request.UserName, request.Password);
                if (!result.Succeeded)
                {
                    return ApiResults.Problem(result);
                }

                var user = (await admin.ListUsersAsync(cancellationToken)).Single(u => u.Id == result.Value);
                return TypedResults.Created($"{ApiEndpoints.Prefix}/users/{user.Id}", UserResponse.From(user));
            })
            .WithName("CreateUser").WithSummary("Make a user who must change the given password at the first sign-in (User.Manage)")
            .Produces<UserResponse>(StatusCodes.Status201Created).ProducesValidationProblem()
            .RequireUserManage();
        users.MapPatch("/{userId}", async (string userId, UpdateUserRequest request, AccessAdministration admin, HttpContext http) =>
                request.Disabled is { } disabled
                    ? Answer(await admin.SetDisabledAsync(AuditActor.From(http), userId, disabled))
                    : ApiResults.BadRequest("Nothing to change: send disabled."))
            .WithName("UpdateUser").WithSummary("Disable or enable a user (User.Manage); the last administrator cannot be disabled")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status409Conflict)
            .RequireUserManage();
        users.MapPost("/{userId}/password", async (string userId, ResetPasswordRequest? request, AccessAdministration admin, HttpContext http) =>
            {
                string password = string.IsNullOrEmpty(request?.Password) ? AdminBootstrap.GeneratePassword() : request.Password;
                var result = await admin.ResetPasswordAsync(AuditActor.From(http), userId, password);
                return !result.Succeeded ? ApiResults.Problem(result)
                    : string.IsNullOrEmpty(request?.Password) ? TypedResults.Ok(new ResetPasswordResponse(password))
                    : TypedResults.NoContent();
            })
            .WithName("ResetPassword")
            .WithSummary("Set a one-time password (generated and returned when none is sent) that the user must change at the next sign-in (User.Manage)")
            .Produces<ResetPasswordResponse>().Produces(StatusCodes.Status204NoContent)
            .RequireUserManage();
        users.MapDelete("/{userId}", async (string userId, AccessAdministration admin, HttpContext http) =>
                Answer(await admin.DeleteUserAsync(AuditActor.From(http), userId)))
            .WithName("DeleteUser").WithSummary("Delete a user, their grants and API tokens (User.Manage); not yourself, not the last administrator")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status409Conflict)
            .RequireUserManage();
        return users;
    }

    public static RouteGroupBuilder MapGroupEndpoints(this RouteGroupBuilder groups)
    {
        groups.MapGet("/", async (AccessAdministration admin, CancellationToken cancellationToken) =>
                TypedResults.Ok((await admin.ListGroupsAsync(cancellationToken)).Select(GroupResponse.From).ToList()))
            .WithName("ListGroups").WithSummary("Every group with its members' ids (User.Manage)")
            .RequireUserManage();
        groups.MapPost("/", async (CreateGroupRequest request, AccessAdministration admin, HttpContext http, CancellationToken cancellationToken) =>
            {
                var result = await admin.CreateGroupAsync(AuditActor.From(http), request.Name, request.Description);
                if (!result.Succeeded)
                {
                    return ApiResults.Problem(result);
                }

                var group = (await admin.ListGroupsAsync(cancellationToken)).Single(g => g.Id == result.Value);
                return TypedResults.Created($"{ApiEndpoints.Prefix}/groups/{group.Id}", GroupResponse.From(group));
            })
            .WithName("CreateGroup").WithSummary("Make a group (User.Manage)")
            .Produces<GroupResponse>(StatusCodes.Status201Created).ProducesValidationProblem()
            .RequireUserManage();
        groups.MapDelete("/{groupId:guid}", async (Guid groupId, AccessAdministration admin, HttpContext http) =>
                Answer(await admin.DeleteGroupAsync(AuditActor.From(http), groupId)))
            .WithName("DeleteGroup").WithSummary("Delete a group and its grants (User.Manage)")
            .Produces(StatusCodes.Status204NoContent)
            .RequireUserManage();
        groups.MapPut("/{groupId:guid}/members/{userId}", async (Guid groupId, string userId, AccessAdministration admin, HttpContext http) =>
                Answer(await admin.SetMemberAsync(AuditActor.From(http), groupId, userId, member: true)))
            .WithName("AddGroupMember").WithSummary("Put a user in a group (User.Manage)")
            .Produces(StatusCodes.Status204NoContent)
            .RequireUserManage();
        groups.MapDelete("/{groupId:guid}/members/{userId}", async (Guid groupId, string userId, AccessAdministration admin, HttpContext http) =>
                Answer(await admin.SetMemberAsync(AuditActor.From(http), groupId, userId, member: false)))
            .WithName("RemoveGroupMember").WithSummary("Take a user out of a group (User.Manage)")
            .Produces(StatusCodes.Status204NoContent)
            .RequireUserManage();
        return groups;
    }

    public static RouteGroupBuilder MapRoleEndpoints(this RouteGroupBuilder roles)
    {
        roles.MapGet("/", async (AccessAdministration admin, CancellationToken cancellationToken) =>
                TypedResults.Ok((await admin.ListRolesAsync(cancellationToken)).Select(RoleResponse.From).ToList()))
            .WithName("ListRoles").WithSummary("The built-in and custom roles (User.Manage)")
            .RequireUserManage();
        roles.MapPost("/", (SaveRoleRequest request, AccessAdministration admin, HttpContext http, CancellationToken cancellationToken) =>
                SaveRoleAsync(null, request, admin, http, cancellationToken))
            .WithName("CreateRole").WithSummary("Make a custom role (User.Manage)")
            .Produces<RoleResponse>(StatusCodes.Status201Created).ProducesValidationProblem()
            .RequireUserManage();
        roles.MapPut("/{roleId:guid}", (Guid roleId, SaveRoleRequest request, AccessAdministration admin, HttpContext http, CancellationToken cancellationToken) =>
                SaveRoleAsync(roleId, request, admin, http, cancellationToken))
            .WithName("UpdateRole").WithSummary("Change a custom role; built-in roles cannot change (User.Manage)")
            .Produces<RoleResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict)
            .RequireUserManage();
        roles.MapDelete("/{roleId:guid}", async (Guid roleId, AccessAdministration admin, HttpContext http) =>
                Answer(await admin.DeleteRoleAsync(AuditActor.From(http), roleId)))
            .WithName("DeleteRole").WithSummary("Delete a custom role that nobody is granted (User.Manage)")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status409Conflict)
            .RequireUserManage();
        return roles;
    }

    public static RouteGroupBuilder MapGrantEndpoints(this RouteGroupBuilder grants)
    {
        grants.MapGet("/", async (AccessAdministration admin, CancellationToken cancellationToken) =>
                TypedResults.Ok((await admin.ListGrantsAsync(cancellationToken)).Select(GrantResponse.From).ToList()))
            .WithName("ListGrants").WithSummary("Every grant (User.Manage)")
            .RequireUserManage();
        grants.MapPost("/", async (CreateGrantRequest request, AccessAdministration admin, HttpContext http, CancellationToken cancellationToken) =>
            {
                var result = await admin.AddGrantAsync(AuditActor.From(http), request.UserId, request.GroupId, request.VmId, request.RoleId, request.NetworkId);
                if (!result.Succeeded)
                {
                    return ApiResults.Problem(result);
                }

                var grant = (await admin.ListGrantsAsync(cancellationToken)).Single(g => g.Id == result.Value);
                return TypedResults.Created($"{ApiEndpoints.Prefix}/grants/{grant.Id}", GrantResponse.From(grant));
            })
            .WithName("CreateGrant").WithSummary("Grant a role to a user or a group on / or one VM (User.Manage)")
            .Produces<GrantResponse>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict)
            .RequireUserManage();
        grants.MapDelete("/{grantId:guid}", async (Guid grantId, AccessAdministration admin, HttpContext http) =>
                Answer(await admin.RemoveGrantAsync(AuditActor.From(http), grantId)))
            .WithName("DeleteGrant").WithSummary("Remove a grant; what it gave ends within seconds, the last administrator's excepted (User.Manage)")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status409Conflict)
            .RequireUserManage();
        return grants;
    }

    private static async Task<IResult> SaveRoleAsync(Guid? roleId, SaveRoleRequest request, AccessAdministration admin, HttpContext http, CancellationToken cancellationToken)
    {
        if (!PrivilegeNames.TryParse(request.Privileges ?? [], out var privileges))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["privileges"] = [$"Privileges are named {string.Join(", ", PrivilegeNames.Each.Select(PrivilegeNames.Name))}."],
            });
        }

        var result = await admin.SaveRoleAsync(AuditActor.From(http), roleId, request.Name, privileges, request.Description);
        if (!result.Succeeded)
        {
            return ApiResults.Problem(result);
        }

        var role = RoleResponse.From((await admin.ListRolesAsync(cancellationToken)).Single(r => r.Id == result.Value));
        return roleId is null ? TypedResults.Created($"{ApiEndpoints.Prefix}/roles/{role.Id}", role) : TypedResults.Ok(role);
    }

    private static IResult Answer(Platform.Web.Services.ServiceResult result) =>
        result.Succeeded ? TypedResults.NoContent() : ApiResults.Problem(result);
}
