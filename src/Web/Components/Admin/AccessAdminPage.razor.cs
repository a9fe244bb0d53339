using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Admin;

/// <summary>
/// Users, groups, roles and grants, for holders of User.Manage. Each action checks the privilege again on the
/// server (the page may be older than a revocation) and goes through <see cref="AccessAdministration"/>, which
/// audits it and tells open sessions.
/// </summary>
public partial class AccessAdminPage
{
    private IReadOnlyList<UserSummary> _users = [];
    private IReadOnlyList<AccessGroup> _groups = [];
    private IReadOnlyList<AccessRole> _roles = [];
    private IReadOnlyList<GrantSummary> _grants = [];
    private IReadOnlyList<VirtualMachine> _vms = [];
    private IReadOnlyList<Network> _networks = [];
    private string _newUser = "";
    private string _newPassword = "";
    private string _newGroup = "";
    private Guid? _roleId;
    private string _roleName = "";
    private Privileges _rolePrivileges;
    private string? _grantSubject;
    private Guid _grantVm;
    private Guid _grantRole = BuiltInRoles.VmUserId;

    [Parameter]
    public string? Tab { get; set; }

    [Inject]
    public required AccessAdministration Admin { get; set; }

    [Inject]
    public required VmService Vms { get; set; }

    [Inject]
    public required Platform.Web.Services.Networks.NetworkService Networks { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    [Inject]
    public required IDialogService Dialogs { get; set; }

    protected override Task OnInitializedAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        _users = await Admin.ListUsersAsync(CancellationToken.None);
        _groups = await Admin.ListGroupsAsync(CancellationToken.None);
        _roles = await Admin.ListRolesAsync(CancellationToken.None);
        _grants = await Admin.ListGrantsAsync(CancellationToken.None);
        _vms = await Vms.ListAsync(CancellationToken.None);
        _networks = await Networks.ListAsync(CancellationToken.None);
    }

    private string NameOf(string userId) => _users.FirstOrDefault(u => u.Id == userId)?.UserName ?? userId;

    /// <summary>Checks User.Manage now, runs the change as the current user, says how it went and reloads.</summary>
    private async Task RunAsync(string action, Func<AuditActor, Task<ServiceResult>> change, string done)
    {
        if (!await Current.CheckAsync(Privileges.UserManage, null, action))
        {
            Snackbar.Add("You no longer have User.Manage.", Severity.Error);
            return;
        }

        var result = await change(await Current.GetActorAsync());
        Snackbar.Add(result.Succeeded ? done : result.Message!, result.Succeeded ? Severity.Success : Severity.Error);
        await LoadAsync();
    }

    private async Task CreateUserAsync()
    {
        string name = _newUser;
        await RunAsync(AuditActions.UserCreate, async actor => await Admin.CreateUserAsync(actor, name, _newPassword), $"Added {name}.");
        _newUser = _newPassword = "";
    }

    private Task SetDisabledAsync(UserSummary user, bool disabled) =>
        RunAsync(AuditActions.UserUpdate, actor => Admin.SetDisabledAsync(actor, user.Id, disabled),
            $"{user.UserName} is {(disabled ? "disabled: their sessions end within seconds" : "enabled")}.");

    private async Task ResetPasswordAsync(UserSummary user)
    {
        string password = AdminBootstrap.GeneratePassword();
        bool? confirmed = await Dialogs.ShowMessageBoxAsync("Reset password",
            $"Give {user.UserName} the one-time password {password}? They must change it at their next sign-in. It is shown only now.",
            yesText: "Reset", cancelText: "Cancel");
        if (confirmed == true)
        {
            await RunAsync(AuditActions.UserResetPassword, actor => Admin.ResetPasswordAsync(actor, user.Id, password),
                $"{user.UserName}'s one-time password is {password}.");
        }
    }

    private async Task DeleteUserAsync(UserSummary user)
    {
        bool? confirmed = await Dialogs.ShowMessageBoxAsync("Delete user", $"Delete {user.UserName}, their grants and their API tokens?",
            yesText: "Delete", cancelText: "Cancel");
        if (confirmed == true)
        {
            await RunAsync(AuditActions.UserDelete, actor => Admin.DeleteUserAsync(actor, user.Id), $"Deleted {user.UserName}.");
        }
    }

    private async Task CreateGroupAsync()
    {
        string name = _newGroup;
        await RunAsync(AuditActions.GroupCreate, async actor => await Admin.CreateGroupAsync(actor, name, null), $"Added group {name}.");
        _newGroup = "";
    }

    private Task DeleteGroupAsync(AccessGroup group) =>
        RunAsync(AuditActions.GroupDelete, actor => Admin.DeleteGroupAsync(actor, group.Id), $"Deleted group {group.Name} and its grants.");

    private Task SetMemberAsync(AccessGroup group, string userId, bool member) =>
        RunAsync(AuditActions.GroupUpdate, actor => Admin.SetMemberAsync(actor, group.Id, userId, member),
            $"{NameOf(userId)} {(member ? "joined" : "left")} {group.Name}.");

    private void EditRole(AccessRole? role)
    {
        _roleId = role?.Id;
        _roleName = role?.Name ?? "";
        _rolePrivileges = role?.Privileges ?? Privileges.None;
    }

    private async Task SaveRoleAsync()
    {
        var (id, name, privileges) = (_roleId, _roleName, _rolePrivileges);
        await RunAsync(id is null ? AuditActions.RoleCreate : AuditActions.RoleUpdate,
            async actor => await Admin.SaveRoleAsync(actor, id, name, privileges, null), $"Saved role {name}.");
        EditRole(null);
    }

    private Task DeleteRoleAsync(AccessRole role) =>
        RunAsync(AuditActions.RoleDelete, actor => Admin.DeleteRoleAsync(actor, role.Id), $"Deleted role {role.Name}.");

    private Task AddGrantAsync()
    {
        string? subject = _grantSubject;
        string? userId = subject?.StartsWith("u:", StringComparison.Ordinal) == true ? subject[2..] : null;
        Guid? groupId = subject?.StartsWith("g:", StringComparison.Ordinal) == true ? Guid.Parse(subject[2..]) : null;
        bool onNetwork = _networks.Any(n => n.Id == _grantVm);
        Guid? vmId = _grantVm == Guid.Empty || onNetwork ? null : _grantVm;
        Guid? networkId = onNetwork ? _grantVm : null;
        return RunAsync(AuditActions.GrantAdd, async actor => await Admin.AddGrantAsync(actor, userId, groupId, vmId, _grantRole, networkId), "Granted.");
    }

    private Task RemoveGrantAsync(GrantSummary grant) =>
        RunAsync(AuditActions.GrantRemove, actor => Admin.RemoveGrantAsync(actor, grant.Id), $"Removed {grant.Role} of {grant.Subject}.");
}
