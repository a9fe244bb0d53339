using System.Runtime.InteropServices;
using Platform.Devices.Pci;
using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Machine;

/// <summary>
/// The machine's KVM_SET_GSI_ROUTING table: the fixed ISA/IOAPIC entries of <see cref="GsiRouting"/>, then one MSI
/// route per MSI-X vector of every PCI function, each on its own GSI from 24 up with an irqfd bound to it. A device
/// worker raises a vector with one eventfd write; KVM injects it without the VMM in the way.
/// </summary>
/// <remarks>
/// <para>Routes follow the guest: when a vector is unmasked with a new message the table is rewritten (on the vCPU
/// thread that wrote the MSI-X table; a KVM_SET_GSI_ROUTING call, bounded, no allocation). A masked vector keeps its
/// old route, since the MSI-X controller never signals a masked vector, so Linux's mask/unmask dance costs nothing.</para>
/// <para>A vector whose route is not in place (its message is being changed, or the routing call failed) is
/// delivered with KVM_SIGNAL_MSI instead; a message that is not an x86 MSI (address outside 0xFEE00000–0xFEEFFFFF)
/// is dropped and counted, as the guest's mistake.</para>
/// </remarks>
internal sealed class MsiRouter : IDisposable
{
    public const uint FirstMsiGsi = GsiRouting.IoApicPins;
    /// <summary>KVM's x86 limit is 4096 routes; this leaves room and bounds the table.</summary>
    public const int MaxVectors = 2048;

    private readonly KvmVm _vm;
    private readonly KvmIrqRoutingEntry[] _fixed = GsiRouting.QemuCompatible();
    private readonly Lock _lock = new();
    private readonly List<RoutedVector> _vectors = [];
    // SAFETY: the routing table KVM reads: native memory of _tableCapacity entries after the header, owned here, touched
    // only under _lock, freed once by Dispose.
    private unsafe KvmIrqRoutingHeader* _table;
    private int _tableCapacity;
    private long _routeUpdates;
    private long _routeFailures;
    private long _directSignals;
    private long _dropped;
    private bool _disposed;

    public MsiRouter(KvmVm vm) => _vm = vm;

    /// <summary>KVM_SET_GSI_ROUTING calls made for MSI route changes.</summary>
    public long RouteUpdates => Interlocked.Read(ref _routeUpdates);

    /// <summary>Routing calls KVM refused (the vector then goes by KVM_SIGNAL_MSI).</summary>
    public long RouteFailures => Interlocked.Read(ref _routeFailures);

    /// <summary>Interrupts delivered with KVM_SIGNAL_MSI because no route was in place.</summary>
    public long DirectSignals => Interlocked.Read(ref _directSignals);

    /// <summary>Interrupts dropped: the guest programmed a message that is not an x86 MSI, or KVM refused it.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Installs the table as it stands (at build time: the ISA/IOAPIC routes only).</summary>
    public void Install()
    {
        lock (_lock)
        {
            KvmVm.Check(Commit(), "KVM_SET_GSI_ROUTING");
        }
    }

    /// <summary>
    /// <paramref name="vectorCount"/> vectors for one PCI function: a GSI, an eventfd and an irqfd each. Called while
    /// the machine is built; the result is the function's <see cref="IMsiTarget"/>.
    /// </summary>
    public IMsiTarget CreateVectors(int vectorCount)
    {
        lock (_lock)
        {
            if (vectorCount < 1 || _vectors.Count + vectorCount > MaxVectors)
            {
                throw new InvalidOperationException($"The machine has room for {MaxVectors} MSI-X vectors in all.");
            }

            var vectors = new RoutedVector[vectorCount];
            for (int i = 0; i < vectorCount; i++)
            {
                uint gsi = FirstMsiGsi + (uint)_vectors.Count;
                var eventFd = EventFd.Create();
                try
                {
                    _vm.AssignIrqfd(eventFd, gsi);
                }
                catch
                {
                    eventFd.Dispose();
                    throw;
                }

                vectors[i] = new RoutedVector(gsi, eventFd);
                _vectors.Add(vectors[i]);
            }

            return new FunctionVectors(this, vectors);
        }
    }

    public unsafe void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            // Closing an eventfd also tears down its irqfd in KVM.
            foreach (var vector in _vectors)
            {
                vector.EventFd.Dispose();
            }

            // SAFETY: _table came from NativeMemory.Realloc (or is null) and is freed once: _disposed stops every
            // later Commit, and the field is cleared under the same lock.
            NativeMemory.Free(_table);
            _table = null;
        }
    }

    /// <summary>x86 MSIs write to the local APIC's window; anything else is not an interrupt.</summary>
    private static bool IsX86Msi(MsiMessage message) => (message.Address & 0xFFFF_FFFF_FFF0_0000UL) == 0xFEE0_0000UL;

    private void Route(RoutedVector vector, MsiMessage message)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            vector.Message = message;
            vector.Routed = true;
            Interlocked.Increment(ref _routeUpdates);
            if (Commit() < 0)
            {
                vector.Routed = false;
                Interlocked.Increment(ref _routeFailures);
            }
        }
    }

    /// <summary>Writes the whole table (fixed entries, then every routed vector) and hands it to KVM. Under the lock.</summary>
    private unsafe int Commit()
    {
        int capacity = _fixed.Length + _vectors.Count;
        if (capacity > _tableCapacity)
        {
            // Grows only while the machine is built (vectors are created then), never on the vCPU path.
            nuint bytes = (nuint)(sizeof(KvmIrqRoutingHeader) + (capacity * sizeof(KvmIrqRoutingEntry)));
            _table = (KvmIrqRoutingHeader*)NativeMemory.Realloc(_table, bytes);
            _tableCapacity = capacity;
        }

        // SAFETY: the table was (re)allocated above for the header plus _tableCapacity entries, and count never
        // exceeds _fixed.Length + _vectors.Count <= _tableCapacity; KVM reads it during the call only, under the lock.
        var entries = new Span<KvmIrqRoutingEntry>((byte*)_table + sizeof(KvmIrqRoutingHeader), _tableCapacity);
        _fixed.CopyTo(entries);
        int count = _fixed.Length;
        foreach (var vector in _vectors)
        {
            if (vector.Routed)
            {
                entries[count++] = new KvmIrqRoutingEntry
                {
                    Gsi = vector.Gsi,
                    Type = KvmIrqRoutingEntry.TypeMsi,
                    MsiAddressLo = (uint)vector.Message.Address,
                    MsiAddressHi = (uint)(vector.Message.Address >> 32),
                    MsiData = vector.Message.Data,
                };
            }
        }

        _table->Nr = (uint)count;
        _table->Flags = 0;
        return _vm.TrySetGsiRouting(_table);
    }

    private void SignalDirect(MsiMessage message)
    {
        if (!IsX86Msi(message) || _vm.SignalMsi(message.Address, message.Data) < 0)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        Interlocked.Increment(ref _directSignals);
    }

    /// <summary>One vector's GSI and irqfd, and the message its route carries (guarded by the function's MSI-X lock).</summary>
    private sealed class RoutedVector(uint gsi, EventFd eventFd)
    {
        public uint Gsi { get; } = gsi;

        public EventFd EventFd { get; } = eventFd;

        public MsiMessage Message { get; set; }

        public bool Routed { get; set; }
    }

    /// <summary>
    /// One function's vectors as its <see cref="IMsiTarget"/>. The MSI-X controller calls both methods under its lock,
    /// so a vector's route and the signals that use it never race.
    /// </summary>
    private sealed class FunctionVectors(MsiRouter router, RoutedVector[] vectors) : IMsiTarget
    {
        public void VectorChanged(int vector, MsiMessage message, bool masked)
        {
            if (masked || (uint)vector >= (uint)vectors.Length)
            {
                return; // a masked vector is never signalled: its old route can stay
            }

            var v = vectors[vector];
            if (!IsX86Msi(message) || (v.Routed && v.Message == message))
            {
                return; // nothing to route (Signal drops it), or the route is already right
            }

            router.Route(v, message);
        }

        public void Signal(int vector, MsiMessage message)
        {
            if ((uint)vector < (uint)vectors.Length)
            {
                var v = vectors[vector];
                if (v.Routed && v.Message == message && v.EventFd.Signal())
                {
                    return;
                }
            }

            router.SignalDirect(message);
        }
    }
}
