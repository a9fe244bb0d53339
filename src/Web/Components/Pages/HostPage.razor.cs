using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Components;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Database;
using Platform.Web.Services.Images;
using Platform.Web.Services.Host;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Pages;

/// <summary>The host: CPU, memory, which KVM it has (and what that means for guests), and the VMs running now.</summary>
public partial class HostPage
{
    private readonly ConcurrentDictionary<Guid, VmPowerState> _states = new();
    private readonly ConcurrentDictionary<Guid, long> _rssBytes = new();
    private VmmBinary _vmm = null!;
    private HostSnapshot _host = null!;
    private IReadOnlyList<VirtualMachine> _vms = [];
    private long _definedMemoryMiB;
    private IReadOnlyList<DatabaseBackup> _backups = [];
    private string? _backupFolder;
    private bool _fileDatabase = true;

    /// <summary>Null when the database is no file (nothing to back up).</summary>
    [Inject]
    public required IServiceProvider Services { get; set; }

    [Inject]
    public required IHostInfo Host { get; set; }

    [Inject]
    public required VmService Vms { get; set; }

    [Inject]
    public required IVmRuntime Runtime { get; set; }

    [Inject]
    public required IVmRuntimeInfo RuntimeInfo { get; set; }

    [Inject]
    public required VmmProgram VmmProgram { get; set; }

    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    private List<VirtualMachine> Active => [.. _vms.Where(vm => Access.CanSee(vm.Id) && StateOf(vm.Id) != VmPowerState.Stopped)];

    private double UsedPercent => _host.TotalMemoryMiB == 0 ? 0 : 100.0 * (_host.TotalMemoryMiB - _host.AvailableMemoryMiB) / _host.TotalMemoryMiB;

    private string KvmTitle => _host.KvmKind switch
    {
        KvmKind.HardwareIntel => "Hardware (Intel VMX)",
        KvmKind.HardwareAmd => "Hardware (AMD SVM)",
        KvmKind.Pvm => "PVM (software, no hardware virtualization)",
        KvmKind.Unknown => "/dev/kvm (kind unknown)",
        _ => "Not available",
    };

    private string KvmExplanation => _host.KvmKind switch
    {
        KvmKind.HardwareIntel or KvmKind.HardwareAmd => "Guests run at full speed; stock Linux kernels boot.",
        KvmKind.Pvm => "The kvm_pvm module emulates guest kernel code: the project's test guests run, a stock Linux kernel cannot boot.",
        KvmKind.Unknown => "/dev/kvm exists but no known KVM module is loaded.",
        _ => "/dev/kvm is missing: load kvm_intel, kvm_amd or kvm_pvm, or give the container --device /dev/kvm. VMs cannot start.",
    };

    protected override async Task OnInitializedAsync()
    {
        _host = Host.Read();
        _vmm = VmmProgram.Current;
        Track(RuntimeInfo.SubscribeStats(sample => Refresh(() => _rssBytes[sample.VmId] = sample.Stats.VmmRssBytes)));
        Track(Runtime.Subscribe(change => Refresh(() =>
        {
            _states[change.VmId] = change.State;
            _host = Host.Read();
        })));
        if (Services.GetService<DatabaseBackups>() is { } backups)
        {
            _backups = backups.List();
            _backupFolder = backups.Folder;
        }

        // A cluster's database is PostgreSQL: no file to back up (a SQLite file in memory has none either, but says so below).
        _fileDatabase = Services.GetService<Platform.Web.Services.Cluster.ClusterSettings>() is not { IsConfigured: true };

        // This host's VMs: in a cluster the others run, and use memory, on their own hosts.
        var cluster = Services.GetService<Platform.Web.Services.Cluster.ClusterSettings>() ?? new();
        _vms = [.. (await Vms.ListAsync(CancellationToken.None)).Where(vm => Platform.Web.Services.Cluster.VmHostChoice.IsLocal(cluster, vm.HostName))];
        _definedMemoryMiB = _vms.Sum(vm => (long)vm.MemoryMiB);
        foreach (var vm in _vms)
        {
            _states.TryAdd(vm.Id, Runtime.GetState(vm.Id));
        }
    }

    private VmPowerState StateOf(Guid id) => _states.GetValueOrDefault(id, VmPowerState.Stopped);

    /// <summary>The VMM process's resident memory (guest pages it touched included), from its last counters.</summary>
    private string RssOf(Guid id) => _rssBytes.TryGetValue(id, out long bytes) && StateOf(id) != VmPowerState.Stopped
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB")
        : "–";
}
