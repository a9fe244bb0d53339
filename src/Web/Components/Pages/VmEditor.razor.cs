using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Components.Vms;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Host;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Images;
using Platform.Web.Services.Networks;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;
using Platform.Web.Services;

namespace Platform.Web.Components.Pages;

/// <summary>
/// The create/edit wizard. Each field is checked as it changes by <see cref="VmDefinitionRules"/> (the API's rules);
/// Next also asks <see cref="VmService"/> for the database's rules (a name in use, a MAC another VM has) and stays on
/// the step while it has errors. Saving an edit carries the stamp the page was loaded with: if someone else saved in
/// between, the page says so and offers to reload instead of overwriting their change.
/// </summary>
public partial class VmEditor
{
    /// <summary>The wizard's steps, in order; <see cref="StepOf"/> says which step shows a field.</summary>
    public static readonly string[] Steps = ["General", "Hardware", "Boot", "Disks & network", "Cloud-init", "Options"];

    private readonly HashSet<string> _touched = new(StringComparer.Ordinal);
    private VmDefinitionInput? _input;
    private Guid _stamp;
    private string _originalName = "";
    private IReadOnlyList<ImageFile> _images = [];
    private IReadOnlyList<Network> _networks = [];
    private bool _mayNameTaps;
    private HostSnapshot _host = null!;
    private IReadOnlyDictionary<string, string[]> _errors = new Dictionary<string, string[]>();
    private Dictionary<string, string[]> _serverErrors = new(StringComparer.Ordinal);
    private int _step;
    private bool _saving;
    private string? _conflict;
    /// <summary>Why the save was refused (a quota, with its numbers), shown above the steps.</summary>
    private string? _refused;
    private string? _loadError;
    private VmPowerState _state;
    /// <summary>In a cluster, the active hosts a new VM may go to; empty on a single host (no choice to offer).</summary>
    private IReadOnlyList<string> _hosts = [];

    [Parameter]
    public Guid? Id { get; set; }

    [Inject]
    public required VmService Vms { get; set; }

    [Inject]
    public required ImageLibrary Library { get; set; }

    [Inject]
    public required NetworkService Networks { get; set; }

    [Inject]
    public required IHostInfo Host { get; set; }

    [Inject]
    public required IVmRuntime Runtime { get; set; }

    [Inject]
    public required NavigationManager Navigation { get; set; }

    [Inject]
    public required Services.Cluster.ClusterSettings Cluster { get; set; }

    [Inject]
    public required Services.Cluster.IClusterHosts ClusterHosts { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    /// <summary>What the user may do; a VM they may not see is "no such VM", one they may not change is read-only.</summary>
    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    private bool IsNew => Id is null;

    private string BootSummary => _input!.BootMode == BootMode.Firmware
        ? $"firmware (BIOS), {BootOrders.Describe(_input.BootOrder)}"
        : _input.BootMode == BootMode.Disk
        ? "first disk"
        : $"kernel {(_input.KernelImageId is { } k ? _images.FirstOrDefault(i => i.Id == k)?.FileName : _input.KernelPath)}"
          + (_input.InitrdImageId is not null || !string.IsNullOrEmpty(_input.InitrdPath) ? " + initrd" : "");

    private IReadOnlyList<ImageFile> Isos => _images.Where(i => i.Kind == ImageKind.Iso).ToList();

    private string CdromSummary => _input!.Cdrom is not { } cdrom ? "none"
        : cdrom.ImageId is { } id ? _images.FirstOrDefault(i => i.Id == id)?.FileName ?? "an ISO image" : "empty drive";

    /// <summary>The orders of the devices the VM has; a disk counts from the next step, so both are offered once a drive is on.</summary>
    private IReadOnlyList<IReadOnlyList<BootDevice>> BootOrderChoices => BootOrders.For(hasDisks: true, _input!.Cdrom is not null);

    /// <summary>The order chosen, or the default (the disks first) spelled out as the pickers show it.</summary>
    private string BootOrderKey => BootOrders.Key(_input!.BootOrder ?? BootOrders.Without(BootOrders.Default, true, _input.Cdrom is not null)!);

    /// <summary>A drive that goes takes its place in the boot order with it.</summary>
    private void SetCdrom(bool on)
    {
        _input!.Cdrom = on ? _input.Cdrom ?? new VmCdromInput() : null;
        _input.BootOrder = on ? _input.BootOrder : BootOrders.Without(_input.BootOrder, hasDisks: true, hasCdrom: false);
        Touch("cdrom.imageId");
        Touch("bootOrder");
    }

    private string DisplaySummary => !_input!.DisplayEnabled ? "none (serial console only)"
        : _input.Input == InputKind.Ps2 ? "std-vga, PS/2 keyboard" : "std-vga, virtio tablet and keyboard";

    /// <summary>The step that shows the field with this error key.</summary>
    public static int StepOf(string key) => key switch
    {
        "name" or "description" => 0,
        "vcpuCount" or "memoryMiB" or "input" or "cpuLimit" or "cpuUnits" or "pidsLimit" => 1,
        "bootMode" or "kernel" or "initrd" or "commandLine" or "bootOrder" => 2,
        _ when key.StartsWith("cdrom", StringComparison.Ordinal) => 2,
        _ when key.StartsWith("disks", StringComparison.Ordinal) || key.StartsWith("nics", StringComparison.Ordinal) => 3,
        _ when key.StartsWith("cloudInit", StringComparison.Ordinal) => 4,
        _ => 5,
    };

    protected override async Task OnParametersSetAsync()
    {
        _host = Host.Read();
        _images = (await Library.ListAsync(CancellationToken.None)).Select(u => u.Image).ToList();
        _networks = await Networks.ListAsync(CancellationToken.None);
        _mayNameTaps = Access.Has(HostPaths.Needed);
        _hosts = IsNew && Cluster.IsConfigured
            ? [.. (await ClusterHosts.ListAsync(CancellationToken.None)).Where(h => h.State == Services.Cluster.ClusterHostState.Active).Select(h => h.Name)]
            : [];
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        _conflict = null;
        _serverErrors.Clear();
        _touched.Clear();
        if (Id is not { } id)
        {
            if (!Access.Has(Privileges.VmAllocate))
            {
                _loadError = "Creating VMs needs VM.Allocate; ask an administrator.";
                return;
            }

            // A new VM just has a network: the default NAT, when this user may attach NICs to it.
            _input ??= new VmDefinitionInput
            {
                Input = InputKind.Virtio,
                Nics = Access.CanUseNetwork(Network.DefaultId) ? [VmNicInput.OnDefaultNetwork()] : [],
            };
        }
        else
        {
            var vm = Access.CanSee(id) ? await Vms.FindAsync(id, CancellationToken.None) : null;
            if (vm is null)
            {
                _loadError = "There is no such VM; it may have been deleted.";
                return;
            }

            if (!Access.Has(Privileges.VmConfig, id))
            {
                _loadError = "Changing this VM needs VM.Config; ask an administrator.";
                return;
            }

            _input = VmDefinitionInput.From(vm);
            _stamp = vm.ConcurrencyStamp;
            _state = Runtime.GetState(id);
            _originalName = vm.Name;
        }

        Validate();
    }

    private async Task ReloadAsync()
    {
        _input = null;
        StateHasChanged();
        await LoadAsync();
        Snackbar.Add("Reloaded the VM's current settings.", Severity.Info);
    }

    private void Validate() => _errors = VmDefinitionRules.Validate(_input!, _host.TotalMemoryMiB);

    /// <summary>cloud-init's rules span its fields (a password or a key): a change to one clears what the server said of all.</summary>
    private void TouchCloudInit(string key)
    {
        foreach (string stale in _serverErrors.Keys.Where(k => k.StartsWith("cloudInit.", StringComparison.Ordinal)).ToList())
        {
            _serverErrors.Remove(stale);
        }

        Touch(key);
    }

    private void Touch(string key)
    {
        _touched.Add(key);
        _serverErrors.Remove(key);
        Validate();
    }

    private string? ErrorOf(string key) =>
        _serverErrors.TryGetValue(key, out var server) ? server[0]
        : _touched.Contains(key) && _errors.TryGetValue(key, out var local) ? local[0]
        : null;

    private bool HasError(string key) => ErrorOf(key) is not null;

    private bool StepHasErrors(int step) =>
        _serverErrors.Keys.Concat(_errors.Keys.Where(_touched.Contains)).Any(k => StepOf(k) == step);

    /// <summary>Shows every error of <paramref name="step"/>, the database's included; true when it has none.</summary>
    private async Task<bool> CheckStepAsync(int step)
    {
        Validate();
        foreach (string key in _errors.Keys.Where(k => StepOf(k) == step))
        {
            _touched.Add(key);
        }

        var all = await Vms.ValidateAsync(_input!, Id, CancellationToken.None);
        foreach (var (key, problems) in all.Where(e => StepOf(e.Key) == step && !_errors.ContainsKey(e.Key)))
        {
            _serverErrors[key] = problems;
        }

        return !StepHasErrors(step);
    }

    private async Task NextAsync()
    {
        if (await CheckStepAsync(_step))
        {
            _step++;
        }
    }

    private Task BackAsync()
    {
        _step = Math.Max(0, _step - 1);
        return Task.CompletedTask;
    }

    /// <summary>Going back is always allowed; going forward passes through each step's checks.</summary>
    private async Task GoToAsync(int step)
    {
        while (_step < step && await CheckStepAsync(_step))
        {
            _step++;
        }

        if (step < _step)
        {
            _step = step;
        }
    }

    private async Task SaveAsync()
    {
        // Checked again on the server at the moment of saving: the page may have been open since a grant was revoked.
        string action = IsNew ? AuditActions.VmCreate : AuditActions.VmUpdate;
        bool usesImages = _input!.Cdrom?.ImageId is not null || Endpoints.VmEndpoints.UsesLibraryImages(_input);
        var needed = (IsNew ? Privileges.VmAllocate : Privileges.VmConfig) | (usesImages ? Privileges.ImageUse : Privileges.None);
        if (!await Current.CheckAsync(needed, Id, action, _input.Name))
        {
            Snackbar.Add($"You need {PrivilegePolicies.Describe(needed)} to save this.", Severity.Error);
            return;
        }

        var current = IsNew ? null : await Vms.FindAsync(Id!.Value, CancellationToken.None);
        var refusedNetworks = NetworkAccess.Refused(_input, current, await Current.GetAccessAsync());
        if (refusedNetworks.Count > 0)
        {
            await Current.AuditAsync(action, AuditResult.Denied, Id, _input.Name, "needs Network.Use");
            Snackbar.Add(NetworkAccess.Explain(refusedNetworks.Select(id => _networks.FirstOrDefault(n => n.Id == id)?.Name ?? id.ToString())), Severity.Error);
            return;
        }

        var added = HostPaths.Added(_input, current);
        if (added.Count > 0 && !await Current.CheckAsync(HostPaths.Needed, null, action, _input.Name))
        {
            Snackbar.Add($"Host paths and TAP devices ({string.Join(", ", added)}) reach the host with the dashboard's own rights: adding one needs " +
                $"{PrivilegePolicies.Describe(HostPaths.Needed)}. Choose images from the library, and ask an administrator for a network.", Severity.Error);
            return;
        }

        _saving = true;
        _refused = null;
        try
        {
            var result = IsNew
                ? await Vms.CreateAsync(_input!, CancellationToken.None, ownerId: (await Current.GetPrincipalAsync()).UserId())
                : await Vms.UpdateAsync(Id!.Value, _input!, _stamp, CancellationToken.None);
            await Current.AuditAsync(action, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed,
                result.Value?.Id ?? Id, _input!.Name, result.Succeeded ? null : result.Message);
            switch (result.Status)
            {
                case ServiceStatus.Ok:
                    // An edit of a running VM says what applied now and what waits for its next start (limits, disks).
                    Snackbar.Add(IsNew ? $"Created {result.Value!.Name}." : $"Saved {result.Value!.Name}. {result.Message}".TrimEnd(), Severity.Success);
                    Navigation.NavigateTo($"vms/{result.Value.Id}");
                    break;
                case ServiceStatus.Invalid:
                    _serverErrors = result.Errors.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
                    _step = result.Errors.Keys.Select(StepOf).Min();
                    Snackbar.Add("Some values need another look.", Severity.Warning);
                    break;
                case ServiceStatus.Conflict:
                    _conflict = result.Message;
                    break;
                case ServiceStatus.Forbidden:
                    _refused = result.Message;
                    break;
                default:
                    Snackbar.Add(result.Message ?? "Saving failed.", Severity.Error);
                    break;
            }
        }
        finally
        {
            _saving = false;
        }
    }

    /// <summary>Input devices come and go with the display; turning it back on offers virtio again, the default.</summary>
    private void DisplayChanged()
    {
        _input!.Input = _input.DisplayEnabled ? _input.Input ?? InputKind.Virtio : null;
        Touch("input");
    }

    private void AddDisk()
    {
        _input!.Disks.Add(new VmDiskInput { LinkedClone = true }); // with a library image: its own overlay, the image kept as it is
        Validate();
    }

    /// <summary>A new, empty disk of the VM's own: 8 GiB of sparse qcow2 unless the user says otherwise.</summary>
    private void AddBlankDisk()
    {
        _input!.Disks.Add(new VmDiskInput { Blank = new BlankDiskInput() });
        Validate();
    }

    private void RemoveDisk(int index)
    {
        _input!.Disks.RemoveAt(index);
        ForgetIndexed("disks");
        Validate();
    }

    private void MoveDisk(int index, int delta)
    {
        var disks = _input!.Disks;
        (disks[index], disks[index + delta]) = (disks[index + delta], disks[index]);
        ForgetIndexed("disks");
        Validate();
    }

    private void AddNic()
    {
        var first = _networks.FirstOrDefault(n => n.Id == Network.DefaultId && Access.CanUseNetwork(n.Id)) ??
            _networks.FirstOrDefault(n => Access.CanUseNetwork(n.Id));
        _input!.Nics.Add(first is not null ? new VmNicInput { NetworkId = first.Id } : new VmNicInput { TapName = $"tap{_input.Nics.Count}" });
        Validate();
    }

    /// <summary>The networks this user may pick for <paramref name="nic"/>: those they may use, and the one it is on already.</summary>
    private IEnumerable<Network> NetworksFor(VmNicInput nic) => _networks.Where(n => Access.CanUseNetwork(n.Id) || n.Id == nic.NetworkId);

    private bool IsNat(VmNicInput nic) => nic.NetworkId is { } id && _networks.FirstOrDefault(n => n.Id == id)?.Kind == NetworkKind.Nat;

    private void ChooseNetwork(int index, Guid networkId)
    {
        var nic = _input!.Nics[index];
        nic.NetworkId = networkId == Guid.Empty ? null : networkId;
        nic.TapName = networkId == Guid.Empty ? nic.TapName ?? $"tap{index}" : null;
        if (!IsNat(nic))
        {
            nic.PortForwards.Clear();
        }

        Touch($"nics[{index}].networkId");
    }

    private void AddForward(int index)
    {
        _input!.Nics[index].PortForwards.Add(new VmPortForward { HostPort = 0, GuestPort = 22 });
        Validate();
    }

    private void RemoveForward(int index, int forwardIndex)
    {
        _input!.Nics[index].PortForwards.RemoveAt(forwardIndex);
        ForgetIndexed($"nics[{index}].portForwards");
        Validate();
    }

    /// <summary>The wizard's NICs for cloud-init's network fields, by their position in the list (their MACs may not be made yet).</summary>
    private IReadOnlyList<CloudInitNicChoice> CloudInitNics => [.. _input!.Nics.Select((nic, i) =>
    {
        var network = _networks.FirstOrDefault(n => n.Id == nic.NetworkId);
        return new CloudInitNicChoice(i, $"NIC {i + 1} · {network?.Name ?? $"TAP {nic.TapName}"}", network?.Subnet);
    })];

    private void RemoveNic(int index)
    {
        _input!.Nics.RemoveAt(index);
        // cloud-init's addresses follow their NICs: the ones after the removed NIC move up a place.
        if (_input.CloudInit?.Networks is { } networks)
        {
            networks.RemoveAll(n => n.Position == index);
            networks.ForEach(n => n.Position -= n.Position > index ? 1 : 0);
        }

        ForgetIndexed("nics");
        Validate();
    }

    private void GenerateMac(int index)
    {
        _input!.Nics[index].MacAddress = MacAddresses.Generate();
        Touch($"nics[{index}].macAddress");
    }

    /// <summary>After rows move, errors keyed by index would point at the wrong row: forget them (they come back on Next).</summary>
    private void ForgetIndexed(string prefix)
    {
        _touched.RemoveWhere(k => k.StartsWith(prefix + "[", StringComparison.Ordinal));
        foreach (string key in _serverErrors.Keys.Where(k => k.StartsWith(prefix + "[", StringComparison.Ordinal)).ToList())
        {
            _serverErrors.Remove(key);
        }
    }
}
