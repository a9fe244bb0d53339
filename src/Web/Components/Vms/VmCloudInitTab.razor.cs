using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.CloudInit;

namespace Platform.Web.Components.Vms;

/// <summary>The Cloud-init tab: <see cref="CloudInitService"/> for the page, checked again and audited like the API.</summary>
public partial class VmCloudInitTab
{
    private CloudInitInput _input = new();
    private IReadOnlyDictionary<string, string[]> _errors = new Dictionary<string, string[]>();
    private bool _passwordSet;
    private bool _removePassword;
    private string? _error;
    private bool _busy;
    private Guid? _loadedFor;

    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    [Inject]
    public required CloudInitService CloudInit { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    private bool CanConfig => Access.Has(Privileges.VmConfig, Vm.Id);

    protected override void OnParametersSet()
    {
        if (_loadedFor != Vm.Id)
        {
            Load(Vm.CloudInit);
            _loadedFor = Vm.Id;
        }
    }

    private void Load(VmCloudInit? settings)
    {
        _input = settings is null
            ? new CloudInitInput { Enabled = true }
            : new CloudInitInput
            {
                Enabled = settings.Enabled, Hostname = settings.Hostname, UserName = settings.UserName,
                SshAuthorizedKeys = settings.SshAuthorizedKeys, Packages = settings.Packages, UserData = settings.UserData,
            };
        _input.Networks = [.. Vm.Nics.OrderBy(n => n.Position).Select(n => NetworkOf(n.Position, settings))];
        _passwordSet = settings?.PasswordHash is not null;
        _removePassword = false;
    }

    private IReadOnlyList<CloudInitNicChoice> NicChoices => [.. Vm.Nics.OrderBy(n => n.Position).Select(n => new CloudInitNicChoice(
        n.Position, $"NIC {n.Position + 1} · {n.Network?.Name ?? $"TAP {n.TapName}"} · {n.MacAddress}", n.Network?.Subnet))];

    /// <summary>The NIC's stored addresses as input, or DHCP.</summary>
    private static CloudInitNicInput NetworkOf(int position, VmCloudInit? settings) =>
        settings?.StaticNics.FirstOrDefault(s => s.Position == position) is { } nic
            ? new CloudInitNicInput
            {
                Position = position, Mode = CloudInitNicMode.Static, Ipv4Address = nic.Ipv4Address, Ipv4Gateway = nic.Ipv4Gateway,
                DnsServers = [.. nic.DnsServers], Ipv6Address = nic.Ipv6Address, Ipv6Gateway = nic.Ipv6Gateway,
            }
            : new CloudInitNicInput { Position = position };

    private bool Has(string key) => _errors.ContainsKey(key);

    private string? Of(string key) => _errors.TryGetValue(key, out var problems) ? string.Join(" ", problems) : null;

    private async Task SaveAsync()
    {
        if (_busy)
        {
            return;
        }

        if (!await Current.CheckAsync(Privileges.VmConfig, Vm.Id, AuditActions.CloudInitUpdate, Vm.Name))
        {
            Snackbar.Add("You need VM.Config for this.", Severity.Error);
            return;
        }

        _busy = true;
        try
        {
            // Empty means "keep" unless the user asked to remove it: the field never shows the stored password.
            _input.Password = _removePassword ? "" : string.IsNullOrEmpty(_input.Password) ? null : _input.Password;
            var result = await CloudInit.SaveAsync(Vm.Id, _input, CancellationToken.None);
            _errors = result.Errors;
            _error = result.Succeeded || result.Errors.Count > 0 ? null : result.Message;
            await Current.AuditAsync(AuditActions.CloudInitUpdate, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, Vm.Id, Vm.Name,
                result.Succeeded ? null : result.Message);
            if (result.Succeeded)
            {
                Load(result.Value);
                Snackbar.Add("Saved. The seed is written again at the VM's next start.", Severity.Success);
            }
            else
            {
                _input.Password = null;
            }
        }
        finally
        {
            _busy = false;
        }
    }
}
