using System.Collections.Concurrent;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Supervisor;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Fakes;

/// <summary>Stored VMs as the supervisor reads them, kept in memory; removing one plays its deletion.</summary>
internal sealed class FakeVmDefinitions : IVmDefinitions
{
    public ConcurrentDictionary<Guid, VirtualMachine> Vms { get; } = new();

    public VirtualMachine Add(string name, CrashPolicy onCrash = CrashPolicy.Stay, bool autostart = false)
    {
        var vm = new VirtualMachine { Name = name, OnCrash = onCrash, Autostart = autostart, KernelPath = "/fake/kernel" };
        Vms[vm.Id] = vm;
        return vm;
    }

    public Task<VirtualMachine?> LoadAsync(Guid vmId, CancellationToken cancellationToken) => Task.FromResult(Vms.GetValueOrDefault(vmId));

    public Task<CrashPolicy> CrashPolicyOfAsync(Guid vmId, CancellationToken cancellationToken) =>
        Task.FromResult(Vms.TryGetValue(vmId, out var vm) ? vm.OnCrash : CrashPolicy.Stay);

    public Task<IReadOnlyList<VirtualMachine>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<VirtualMachine>>([.. Vms.Values]);
}

/// <summary>An event log that only remembers.</summary>
internal sealed class MemoryVmEventLog : IVmEventLog
{
    public ConcurrentQueue<VmEvent> Entries { get; } = new();

    public IReadOnlyList<string> Messages => [.. Entries.Select(e => e.Message)];

    public Task AddAsync(VmEvent entry, CancellationToken cancellationToken)
    {
        Entries.Enqueue(entry);
        return Task.CompletedTask;
    }

    public Task<VmEventPage> ListAsync(Guid? vmId, VmVisibility visibility, int skip, int take, CancellationToken cancellationToken) =>
        Task.FromResult(new VmEventPage([.. Entries.Where(e => vmId is null || e.VmId == vmId).Skip(skip).Take(take)], Entries.Count));

    public IDisposable Subscribe(Action<VmEvent> handler) => throw new NotSupportedException("not needed by the supervisor's tests");
}
