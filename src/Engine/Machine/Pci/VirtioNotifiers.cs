using Platform.Devices.Pci;
using Platform.Devices.Virtio;
using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Machine.Pci;

/// <summary>
/// A virtio function's queue notifications on the fast path: one eventfd per queue, registered with KVM_IOEVENTFD at
/// the queue's notify register wherever BAR 0 decodes now, and watched by the machine's <see cref="IoEventLoop"/>,
/// which calls <see cref="VirtioPciDevice.Notify"/>. The guest's 16-bit write then never leaves the kernel.
/// </summary>
/// <remarks>
/// Follows the BAR: when the guest moves it or turns decoding off (Linux does while it sizes BARs) the ioeventfds are
/// removed from the old address and added at the new one. A mapping outside the PCI window gets none (the MMIO bus
/// does not decode there either), and a registration KVM refuses — two functions' BARs programmed on top of each
/// other — is counted, not thrown: the write then exits to the VMM and reaches the same <c>Notify</c> through the
/// MMIO window, so ioeventfds are a fast path, never a correctness requirement.
/// </remarks>
internal sealed class VirtioNotifiers : IPciBarObserver, IDisposable
{
    /// <summary>Linux writes the queue index with iowrite16; other widths take the MMIO exit.</summary>
    public const uint NotifyWidth = 2;

    private readonly KvmVm _vm;
    private readonly VirtioPciDevice _device;
    private readonly EventFd[] _eventFds;
    private readonly ulong?[] _registered;
    private readonly Lock _lock = new();
    private long _registrationFailures;

    public VirtioNotifiers(KvmVm vm, VirtioPciDevice device, IoEventLoop loop)
    {
        _vm = vm;
        _device = device;
        _eventFds = new EventFd[device.QueueCount];
        _registered = new ulong?[device.QueueCount];
        try
        {
            for (int queue = 0; queue < _eventFds.Length; queue++)
            {
                int index = queue;
                _eventFds[queue] = EventFd.Create();
                loop.WatchEventFd(_eventFds[queue], () => device.Notify(index));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>ioeventfd registrations KVM refused (the notifications still arrive, by MMIO exits).</summary>
    public long RegistrationFailures => Interlocked.Read(ref _registrationFailures);

    /// <summary>Where queue <paramref name="queue"/>'s ioeventfd sits now, or null.</summary>
    public ulong? RegisteredAddress(int queue)
    {
        lock (_lock)
        {
            return _registered[queue];
        }
    }

    public void BarMappingChanged(PciFunction device, int barIndex, PciBarMapping? previous, PciBarMapping? current)
    {
        lock (_lock)
        {
            for (int queue = 0; queue < _eventFds.Length; queue++)
            {
                var location = _device.QueueNotifyLocation(queue);
                if (location.BarIndex != barIndex)
                {
                    continue;
                }

                if (_registered[queue] is { } old)
                {
                    _vm.TrySetIoeventfd(_eventFds[queue], old, NotifyWidth, assign: false);
                    _registered[queue] = null;
                }

                if (current is { } mapping && InWindow(mapping))
                {
                    ulong address = mapping.Address + location.Offset;
                    if (_vm.TrySetIoeventfd(_eventFds[queue], address, NotifyWidth, assign: true) == 0)
                    {
                        _registered[queue] = address;
                    }
                    else
                    {
                        Interlocked.Increment(ref _registrationFailures);
                    }
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var eventFd in _eventFds)
        {
            eventFd?.Dispose();
        }
    }

    private static bool InWindow(PciBarMapping mapping) =>
        mapping.Address >= MemoryLayout.PciWindowStart && mapping.End <= MemoryLayout.PciWindowEnd && mapping.End > mapping.Address;
}
