using Platform.Devices.Pci;
using Platform.Devices.Storage.Ahci;
using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Input;
using Platform.Devices.Virtio.Net;
using Platform.Devices.Virtio.Rng;
using Platform.Engine.Control;
using Platform.Engine.Kvm;
using Platform.Engine.Machine.Firmware;
using Platform.Engine.Memory;
using Platform.Engine.Net;
using Platform.Engine.Storage;

namespace Platform.Engine.Machine.Pci;

/// <summary>
/// The machine's PCI side, built in small steps as Firecracker's builder does: bus 0 behind the type-1 ports (host
/// bridge at 00:00.0), a virtio function per configured disk, NIC and rng, BARs placed in the window below the
/// IOAPIC as firmware would, the window on the MMIO bus, INTx wired for the MP table, MSI-X through
/// <see cref="MsiRouter"/> and queue notifications through <see cref="VirtioNotifiers"/>.
/// </summary>
/// <remarks>Other PCI functions (the display) attach with <see cref="AttachFunction"/> before <see cref="PlaceBars"/>.</remarks>
internal sealed class PciDevices : IDisposable
{
    private readonly MachineInstance _machine;
    private readonly KvmVm _vm;
    private readonly GuestMemory _memory;
    private readonly MsiRouter _msi;
    private readonly IoEventLoop _events;
    private readonly PciBarObservers _observers = new();
    private readonly IIntxRouting _intx;
    private readonly List<VirtioFunction> _virtio = [];

    /// <param name="shadowRam">With firmware: where the i440FX's PAM registers remap 0xC0000–0xFFFFF; the bus then has
    /// the i440FX at 00:00.0, the PIIX3 at 00:01.0 and the PIIX4's power management at 00:01.3, as QEMU's pc machine.
    /// Null: a plain host bridge and nothing else.</param>
    public PciDevices(MachineInstance machine, KvmVm vm, GuestMemory memory, MsiRouter msi, IoEventLoop events,
        IShadowRamControl? shadowRam = null)
    {
        _machine = machine;
        _vm = vm;
        _memory = memory;
        _msi = msi;
        _events = events;
        Bus = new PciBus(_observers, shadowRam is null ? null : new I440fxHostBridgeFunction(shadowRam));
        PowerManagementPorts = new PowerManagementPorts(machine.Ports);
        PowerManagement = new Piix4PowerManagement(new KvmIrqLine(vm, Piix4PowerManagement.SciIrq), PowerManagementPorts.MoveBlock)
        {
            PowerOffRequested = () => machine.RequestPowerOff("ACPI S5 (PM1 control)"),
        };
        PowerManagementPorts.Attach(PowerManagement);
        if (shadowRam is not null)
        {
            IsaBridge = new Piix3IsaBridgeFunction(multiFunction: true);
            Bus.Attach(1, IsaBridge);
            // INTx goes where the PIIX3's PIRQ registers say, as on QEMU's pc machine; SeaBIOS's MP table and our DSDT's
            // link devices describe the same ISA IRQs.
            var router = new PirqInterruptRouter(vm.SetIrqLine, IsaBridge.PirqRoute);
            IsaBridge.PirqRoutesChanged = router.RoutesChanged;
            _intx = router;
            Bus.Attach(1, PowerManagementFunction, PowerManagement);
        }
        else
        {
            // A direct boot: no firmware programs PMBASE, so the machine does, at QEMU's 0x600, for the ACPI tables it
            // writes itself. The function stays off the bus: without a PIIX3 at 00:01.0 there is no slot 1 function 3 to
            // hold it, and giving it a slot of its own would move every device from the slots direct boots have always had.
            PowerManagement.WriteConfig(Piix4PowerManagement.PmBaseRegister, [(byte)(DirectBootPmBase & 0xFF | 1), DirectBootPmBase >> 8]);
            PowerManagement.WriteConfig(Piix4PowerManagement.PmRegMiscRegister, [Piix4PowerManagement.PmIoEnable]);
            _intx = new PciInterruptWires(vm.SetIrqLine);
        }

        Bridge = new PciHostBridge(Bus) { ResetRequested = () => machine.RequestReset("PCI reset control (port 0xCF9)") };
        machine.Ports.Register(PciHostBridge.BasePort, PciHostBridge.PortCount, Bridge);
        Window = Bus.CreateMmioWindow(MemoryLayout.PciWindowStart);
        machine.Mmio.Register(MemoryLayout.PciWindowStart, MemoryLayout.PciWindowEnd - MemoryLayout.PciWindowStart, Window);
    }

    public PciBus Bus { get; }

    public PciHostBridge Bridge { get; }

    /// <summary>The CD-ROM drive's name in query-stats and the media commands.</summary>
    public const string CdromName = "cdrom0";

    /// <summary>The name of NIC <paramref name="index"/>'s virtio-net, as query-stats and set_link give it.</summary>
    public static string NicName(int index) => $"net{index}";

    /// <summary>The PIIX4's power-management function is function 3 of the PIIX's slot, as on the chip.</summary>
    public const int PowerManagementFunction = 3;

    /// <summary>Where a direct boot's PM I/O block decodes: where SeaBIOS puts it under QEMU, and what QEMU's FADT names.</summary>
    public const ushort DirectBootPmBase = 0x600;

    /// <summary>The PIIX3 with firmware; null otherwise.</summary>
    public Piix3IsaBridgeFunction? IsaBridge { get; }

    /// <summary>ACPI's fixed hardware (PM timer, SCI, power button, sleep): at 00:01.3 with firmware, off the bus with its
    /// block at <see cref="DirectBootPmBase"/> on a direct boot.</summary>
    public Piix4PowerManagement PowerManagement { get; }

    /// <summary>Where <see cref="PowerManagement"/>'s registers sit on the port bus.</summary>
    public PowerManagementPorts PowerManagementPorts { get; }

    public PciMmioWindow Window { get; }

    public IReadOnlyList<VirtioFunction> Virtio => _virtio;

    /// <summary>Where each function's INTx pin goes, for a direct boot's MP table (a BIOS writes its own from the PIRQ routes).</summary>
    public IReadOnlyList<PciInterruptRoute> InterruptRoutes =>
        [.. Bus.Devices.OfType<PciFunction>().Where(f => f.InterruptPin != 0)
            .Select(f => new PciInterruptRoute(f.DeviceNumber, f.InterruptPin, PciInterruptWires.IoApicPin(f.DeviceNumber, f.InterruptPin)))];

    /// <summary>The name of disk <paramref name="index"/> (its place in the configuration), as query-stats gives it.</summary>
    public static string DiskName(int index) => $"disk{index}";

    /// <summary>
    /// Opens each virtio disk's image and attaches a virtio-blk for it (SATA disks go on the AHCI controller), throttled
    /// by <paramref name="throttles"/>[i] when given.
    /// </summary>
    public void AttachDisks(IReadOnlyList<DiskOptions> disks, IReadOnlyList<IoThrottle>? throttles = null)
    {
        for (int i = 0; i < disks.Count; i++)
        {
            if (disks[i].Bus != DiskInterface.Virtio)
            {
                continue;
            }

            var backend = DiskImageFiles.Open(disks[i]);
            VirtioBlock device;
            try
            {
                device = new VirtioBlock(backend, disks[i].Serial) { Throttle = throttles is { } kept && i < kept.Count ? kept[i] : disks[i].CreateThrottle() };
            }
            catch
            {
                backend.Dispose();
                throw;
            }

            AttachVirtio(DiskName(i), "virtio-blk", device, () => backend.LastError, backend as IDiskImage);
        }
    }

    /// <summary>
    /// Puts a virtio-net on each NIC's backend (<see cref="NicBackends"/>: an existing TAP, a TAP the VMM made on a
    /// bridge, or a passt of its own), which outlives this machine: a reboot's devices take the same backends. The event
    /// loop watches each backend's descriptor for frames.
    /// </summary>
    public void AttachNics(IReadOnlyList<NicOptions> nics, NicBackends backends)
    {
        for (int i = 0; i < nics.Count; i++)
        {
            var backend = backends[i];
            var device = new VirtioNet(backend, nics[i].Mac) { OwnsBackend = false };
            AttachVirtio(NicName(i), "virtio-net", device, () => (backend as PasstBackend)?.LastError);
            switch (backend)
            {
                case TapBackend tap:
                    _events.WatchReadable(tap.Handle, tap.OnReadable);
                    break;
                case PasstBackend passt:
                    ulong token = _events.WatchStream(passt.Handle, passt.OnReady);
                    passt.OnSocketReplaced((old, replacement) => _events.Rewatch(token, old, replacement));
                    string name = NicName(i);
                    passt.OnBackendChanged((what, gaveUp) => _machine.RaiseDeviceEvent(
                        gaveUp ? VmmEventKind.NicBackendFailed : VmmEventKind.NicBackendRestarted, $"{name}: {what}"));
                    break;
            }
        }
    }

    /// <summary>The AHCI controller, when the machine has a CD-ROM drive or a SATA disk; null otherwise.</summary>
    public AhciController? Ahci { get; private set; }

    /// <summary>The DVD/CD-ROM drive on the AHCI controller's port 0; null without one.</summary>
    public AtapiCdrom? Cdrom { get; private set; }

    /// <summary>The SATA disks on the AHCI controller, in configured order.</summary>
    public IReadOnlyList<SataDisk> SataDisks => _sata;

    private readonly List<SataDisk> _sata = [];

    /// <summary>
    /// An AHCI controller (QEMU's ICH9 AHCI function) with, when <paramref name="hasCdrom"/>, a DVD/CD-ROM drive on port 0
    /// holding the ISO image at <paramref name="isoPath"/> or nothing, and each SATA disk of <paramref name="disks"/> on the
    /// next port. The ISO is checked and the disk images opened here, so a bad one fails the start.
    /// </summary>
    public void AttachAhci(bool hasCdrom, string? isoPath, IReadOnlyList<DiskOptions> disks)
    {
        var ports = new List<IAtaDevice?>();
        try
        {
            if (hasCdrom)
            {
                Cdrom = new AtapiCdrom(isoPath is null ? null : IsoImage.Open(isoPath));
                ports.Add(Cdrom);
            }

            for (int i = 0; i < disks.Count; i++)
            {
                if (disks[i].Bus == DiskInterface.Sata)
                {
                    var disk = new AtaDisk(DiskImageFiles.Open(disks[i]), disks[i].Serial ?? $"PLATFORM-SATA{ports.Count}");
                    _sata.Add(new SataDisk(DiskName(i), ports.Count, disk));
                    ports.Add(disk);
                }
            }

            Ahci = AttachFunction((intx, msi) => new AhciController(_memory, intx, ports, msi), msiVectors: 1);
        }
        catch
        {
            Cdrom?.Dispose();
            Cdrom = null;
            foreach (var sata in _sata)
            {
                sata.Disk.Dispose();
            }

            _sata.Clear();
            throw;
        }
    }

    public void AttachRng() => AttachVirtio("rng0", "virtio-rng", new VirtioRng(), null);

    /// <summary>The display's input devices: a virtio tablet, then a virtio keyboard (QEMU's usual order).</summary>
    public (VirtioTablet Tablet, VirtioKeyboard Keyboard) AttachInput()
    {
        var tablet = new VirtioTablet();
        AttachVirtio("tablet0", "virtio-tablet", tablet, null);
        var keyboard = new VirtioKeyboard();
        AttachVirtio("keyboard0", "virtio-keyboard", keyboard, null);
        return (tablet, keyboard);
    }

    /// <summary>
    /// Puts any PCI function in the next free slot. <paramref name="create"/> receives the slot's INTx wire and an
    /// <see cref="IMsiTarget"/> with <paramref name="msiVectors"/> vectors (0: none); <paramref name="barObserver"/>
    /// hears when the guest moves the function's BARs.
    /// </summary>
    public T AttachFunction<T>(Func<Platform.Devices.Abstractions.IInterruptLine, IMsiTarget?, T> create, int msiVectors,
        IPciBarObserver? barObserver = null)
        where T : PciFunction
    {
        int slot = Bus.FreeSlot();
        if (slot < 0)
        {
            throw new InvalidOperationException($"The PCI bus is full ({PciBus.DeviceCount - 1} devices).");
        }

        var function = create(_intx.Wire(slot, 1), msiVectors > 0 ? _msi.CreateVectors(msiVectors) : null);
        if (barObserver is not null)
        {
            _observers.Add(function, barObserver);
        }

        Bus.Attach(slot, function);
        return function;
    }

    /// <summary>Places every BAR in the window and turns decoding on, as firmware does; ioeventfds follow.</summary>
    public void PlaceBars() =>
        Bus.AssignBars(MemoryLayout.PciWindowStart, MemoryLayout.PciWindowEnd - MemoryLayout.PciWindowStart);

    /// <summary>Counters for query-stats: each virtio device, then the bus itself.</summary>
    public IEnumerable<DeviceStats> Stats()
    {
        foreach (var v in _virtio)
        {
            yield return v.Stats();
        }

        yield return new DeviceStats("pci", "pci-bus", new Dictionary<string, long>
        {
            ["config_bad_accesses"] = Bridge.BadAccesses,
            ["window_unclaimed"] = Window.UnclaimedAccesses,
            ["msi_route_updates"] = _msi.RouteUpdates,
            ["msi_route_failures"] = _msi.RouteFailures,
            ["msi_direct"] = _msi.DirectSignals,
            ["msi_dropped"] = _msi.Dropped,
            ["ioeventfd_failures"] = _virtio.Sum(v => v.Notifiers.RegistrationFailures),
        });
        yield return PowerManagementPorts.Stats();

        if (Ahci is not null && Cdrom is not null)
        {
            var port = Ahci.Ports[0];
            yield return new DeviceStats(CdromName, "ahci-cdrom", new Dictionary<string, long>
            {
                ["requests"] = port.CommandsCompleted,
                ["bytes"] = port.BytesTransferred,
                ["read_sectors"] = Cdrom.SectorsRead,
                ["packet_commands"] = Cdrom.PacketCommands,
                ["failed_packet_commands"] = Cdrom.FailedPacketCommands,
                ["bad_commands"] = port.BadCommands,
                ["bad_accesses"] = Ahci.BadAccesses,
                ["medium"] = Cdrom.MediumPath is null ? 0 : 1,
                ["locked"] = Cdrom.Locked ? 1 : 0,
            })
            { Medium = Cdrom.MediumPath };
        }

        foreach (var sata in _sata)
        {
            yield return sata.Stats(Ahci!.Ports[sata.Port], Ahci.BadAccesses);
        }
    }

    /// <summary>
    /// Stops every device's workers (joined) and closes their backends. The caller has stopped the vCPUs and the event
    /// loop first, and unmaps guest memory only afterwards, so no worker ever touches unmapped memory.
    /// </summary>
    public void Dispose()
    {
        foreach (var v in _virtio)
        {
            v.Pci.Dispose();
            v.Notifiers.Dispose();
        }

        _virtio.Clear();
        Cdrom?.Dispose();
        foreach (var sata in _sata)
        {
            sata.Disk.Dispose();
        }

        _sata.Clear();
    }

    private void AttachVirtio(string name, string kind, IVirtioDevice device, Func<string?>? backendError, IDiskImage? image = null)
    {
        VirtioNotifiers? notifiers = null;
        try
        {
            var pci = AttachFunction((intx, msi) => new VirtioPciDevice(device, _memory, msi!, intx), device.QueueMaxSizes.Count + 1);
            notifiers = new VirtioNotifiers(_vm, pci, _events);
            _observers.Add(pci, notifiers);
            _virtio.Add(new VirtioFunction(name, kind, pci, notifiers, backendError) { Image = image });
        }
        catch
        {
            notifiers?.Dispose();
            device.Dispose();
            throw;
        }
    }
}

/// <summary>A SATA disk on the AHCI controller: its name in query-stats, its port, and the device.</summary>
internal sealed record SataDisk(string Name, int Port, AtaDisk Disk)
{
    /// <summary>The same request and byte counters virtio-blk reports, plus what the guest got wrong.</summary>
    public DeviceStats Stats(AhciPort port, long badAccesses)
    {
        var counters = new Dictionary<string, long>
        {
            ["requests"] = Disk.ReadCommands + Disk.WriteCommands + Disk.FlushCommands,
            ["read_requests"] = Disk.ReadCommands,
            ["write_requests"] = Disk.WriteCommands,
            ["flush_requests"] = Disk.FlushCommands,
            ["trim_requests"] = Disk.TrimCommands,
            ["queued_requests"] = Disk.QueuedCommands,
            ["read_bytes"] = Disk.BytesRead,
            ["write_bytes"] = Disk.BytesWritten,
            ["bytes"] = Disk.BytesRead + Disk.BytesWritten,
            ["failed_requests"] = Disk.FailedIo,
            ["aborted_commands"] = Disk.AbortedCommands,
            ["bad_commands"] = port.BadCommands,
            ["bad_accesses"] = badAccesses,
            ["port"] = Port,
        };
        (Disk.Backend as IDiskImage)?.AddCounters(counters);
        return new DeviceStats(Name, "ahci-disk", counters)
        {
            LastError = Disk.Backend.LastError,
            Format = Disk.Backend is IDiskImage image ? DiskImageProbe.Name(image.Format) : null,
        };
    }
}

/// <summary>One virtio device on the bus: its name in query-stats, its transport and its notification fast path.</summary>
internal sealed record VirtioFunction(string Name, string Kind, VirtioPciDevice Pci, VirtioNotifiers Notifiers, Func<string?>? BackendError)
{
    /// <summary>A disk's image (format, sizes, the format's own counters).</summary>
    public IDiskImage? Image { get; init; }

    public IVirtioDevice Device => Pci.Device;

    /// <summary>Requests, bytes, errors and notifications, named the same way for every kind, plus each kind's own.</summary>
    public DeviceStats Stats()
    {
        var counters = new Dictionary<string, long>
        {
            ["notifications"] = Pci.Notifications,
            ["errors"] = Pci.DeviceErrors,
            ["bad_accesses"] = Pci.BadAccesses,
        };
        string? lastError = Pci.LastDeviceError ?? BackendError?.Invoke();
        switch (Device)
        {
            case VirtioBlock blk:
                counters["requests"] = blk.ReadRequests + blk.WriteRequests + blk.FlushRequests;
                counters["read_requests"] = blk.ReadRequests;
                counters["write_requests"] = blk.WriteRequests;
                counters["flush_requests"] = blk.FlushRequests;
                counters["read_bytes"] = blk.BytesRead;
                counters["write_bytes"] = blk.BytesWritten;
                counters["bytes"] = blk.BytesRead + blk.BytesWritten;
                counters["failed_requests"] = blk.FailedRequests;
                counters["in_place_requests"] = blk.InPlaceRequests;
                counters["bounced_requests"] = blk.BouncedRequests;
                counters["max_in_flight"] = blk.MaxInFlightSeen;
                // The limits in force now (0: none), so a client sees a block_set_io_throttle take hold.
                counters["limit_bps"] = blk.Throttle?.BytesPerSecond ?? 0;
                counters["limit_iops"] = blk.Throttle?.Iops ?? 0;
                counters["throttled_requests"] = blk.Throttle?.Throttled ?? 0;
                Image?.AddCounters(counters);
                break;
            case VirtioNet net:
                counters["requests"] = net.FramesReceived + net.FramesSent;
                counters["rx_frames"] = net.FramesReceived;
                counters["rx_bytes"] = net.BytesReceived;
                counters["tx_frames"] = net.FramesSent;
                counters["tx_bytes"] = net.BytesSent;
                counters["bytes"] = net.BytesReceived + net.BytesSent;
                counters["dropped_frames"] = net.FramesDropped;
                counters["filtered_frames"] = net.FramesFiltered;
                counters["merged_rx_frames"] = net.FramesMerged;
                counters["bad_rx_chains"] = net.BadReceiveChains;
                counters["bad_offload_headers"] = net.BadOffloadHeaders;
                counters["control_commands"] = net.ControlCommands;
                counters["control_errors"] = net.ControlErrors;
                counters["bad_control_chains"] = net.BadControlChains;
                counters["link_up"] = net.LinkUp ? 1 : 0;
                counters["tx_stalls"] = net.TransmitStalls;
                if (net.Backend is PasstBackend passt)
                {
                    counters["backend_restarts"] = passt.Restarts;
                    counters["backend_protocol_errors"] = passt.ProtocolErrors;
                }

                string[] addresses = [.. new[] { net.GuestAddresses.Ipv4, net.GuestAddresses.Ipv6 }.OfType<System.Net.IPAddress>().Select(a => a.ToString())];
                return new DeviceStats(Name, Kind, counters)
                {
                    LastError = lastError, Mac = NicOptions.FormatMac(net.Mac), Addresses = addresses.Length > 0 ? addresses : null,
                };
            case VirtioRng rng:
                counters["requests"] = rng.Requests;
                counters["bytes"] = rng.BytesServed;
                break;
            case VirtioInput input:
                counters["requests"] = input.ReportsQueued;
                counters["reports"] = input.ReportsQueued;
                counters["events"] = input.EventsDelivered;
                counters["bytes"] = input.EventsDelivered * InputEvent.Size;
                counters["dropped_events"] = input.EventsDropped;
                counters["pending_events"] = input.EventsPending;
                counters["status_events"] = input.StatusEvents;
                counters["bad_status_buffers"] = input.BadStatusBuffers;
                counters["driver_active"] = input.IsActive ? 1 : 0;
                if (input is VirtioKeyboard keyboard)
                {
                    counters["leds"] = keyboard.Leds;
                    counters["unmapped_keys"] = keyboard.UnmappedKeys;
                }

                break;
        }

        return new DeviceStats(Name, Kind, counters)
        {
            LastError = lastError,
            Format = Image is null ? null : DiskImageProbe.Name(Image.Format),
        };
    }
}
