using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Vms;

/// <summary>
/// A running VM's NICs, through its VMM (the control socket's <c>set_link</c>, as QMP's): pulling a cable out or
/// plugging it in is seen by the guest at once (virtio-net's link status and its config interrupt), and the VMM keeps
/// it across the guest's reboots. A new VMM, at the next start, begins with every cable plugged in.
/// </summary>
public interface IRunningNics
{
    /// <summary>
    /// Plugs NIC <paramref name="position"/>'s cable in (<paramref name="up"/>) or pulls it out. Throws
    /// <see cref="VmRuntimeException"/> with the VMM's reason (a NIC the running machine lacks, a VMM gone).
    /// </summary>
    Task SetLinkAsync(Guid vmId, int position, bool up, CancellationToken cancellationToken);

    /// <summary>Each NIC's link as the VMM has it now (its <c>query-stats</c>); null when the VM is not running.</summary>
    Task<IReadOnlyList<NicLinkState>?> QueryAsync(Guid vmId, CancellationToken cancellationToken);
}

/// <summary>What a running VMM says of one NIC's cable.</summary>
/// <param name="Position">The NIC's 0-based position, as the definition's <see cref="Data.VmNic.Position"/>.</param>
/// <param name="LinkUp">The cable is plugged in (the device's <c>link_up</c> counter is 1).</param>
public sealed record NicLinkState(int Position, bool LinkUp);
