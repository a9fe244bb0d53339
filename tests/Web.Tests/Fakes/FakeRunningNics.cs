using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Fakes;

/// <summary>
/// Running VMs' NIC cables as a VMM would keep them, per VM and position (plugged in until pulled), every call in order,
/// and a refusal a test sets (as the VMM's for a NIC its machine lacks).
/// </summary>
public sealed class FakeRunningNics : IRunningNics
{
    private readonly Dictionary<Guid, SortedDictionary<int, bool>> _links = [];

    public List<string> Calls { get; } = [];

    /// <summary>The VMM refuses the next changes with this reason.</summary>
    public string? Refuse { get; set; }

    /// <summary>VM <paramref name="vmId"/> runs with <paramref name="count"/> NICs, all plugged in.</summary>
    public void Run(Guid vmId, int count)
    {
        lock (_links)
        {
            _links[vmId] = new SortedDictionary<int, bool>(Enumerable.Range(0, count).ToDictionary(i => i, _ => true));
        }
    }

    public Task SetLinkAsync(Guid vmId, int position, bool up, CancellationToken cancellationToken)
    {
        lock (_links)
        {
            Calls.Add($"link {vmId} {position} {(up ? "up" : "down")}");
            if (Refuse is { } reason)
            {
                throw new VmRuntimeException(reason);
            }

            if (!_links.TryGetValue(vmId, out var links) || !links.ContainsKey(position))
            {
                throw new VmRuntimeException($"The running VM does not have that NIC (no NIC named 'net{position}').");
            }

            links[position] = up;
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<NicLinkState>?> QueryAsync(Guid vmId, CancellationToken cancellationToken)
    {
        lock (_links)
        {
            return Task.FromResult<IReadOnlyList<NicLinkState>?>(
                _links.TryGetValue(vmId, out var links) ? [.. links.Select(l => new NicLinkState(l.Key, l.Value))] : null);
        }
    }
}
