using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Platform.Web.Security;

namespace Platform.Web.Components.Security;

/// <summary>
/// Hands every page the signed-in user's <see cref="UserAccess"/> as a cascading value, and a fresh one as soon as a
/// grant, role, group or user changes (or the user signs out on an open page), so buttons and rows appear and vanish
/// within moments. Pages decide what to show from it; actions still ask <see cref="CurrentUser"/> on the server.
/// </summary>
public partial class CascadingAccess : IDisposable
{
    private UserAccess _access = UserAccess.None;
    private IDisposable? _subscription;

    [Parameter]
    public RenderFragment? ChildContent { get; set; }

    /// <summary>The client's address from the page request, for the audit log.</summary>
    [Parameter]
    public string? ClientAddress { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required IPermissionService Permissions { get; set; }

    [Inject]
    public required AuthenticationStateProvider Authentication { get; set; }

    protected override void OnInitialized()
    {
        _subscription = Permissions.Subscribe(() => _ = InvokeAsync(ReloadAsync));
        Authentication.AuthenticationStateChanged += OnAuthenticationStateChanged;
    }

    protected override async Task OnParametersSetAsync()
    {
        Current.ClientAddress ??= ClientAddress;
        _access = await Current.GetAccessAsync();
    }

    private async Task ReloadAsync()
    {
        var access = await Current.GetAccessAsync();
        if (!ReferenceEquals(access, _access))
        {
            _access = access;
            StateHasChanged();
        }
    }

    private void OnAuthenticationStateChanged(Task<AuthenticationState> state) => _ = InvokeAsync(ReloadAsync);

    public void Dispose()
    {
        _subscription?.Dispose();
        Authentication.AuthenticationStateChanged -= OnAuthenticationStateChanged;
        GC.SuppressFinalize(this);
    }
}
