using Platform.Devices.Display;
using Platform.Devices.Firmware;
using Platform.Devices.Legacy;
using Platform.Devices.Virtio.Input;
using Platform.Engine.Boot;
using Platform.Engine.Boot.Disk;
using Platform.Engine.Control;
using Platform.Engine.Display;
using Platform.Engine.Host;
using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;
using Platform.Engine.Machine.Firmware;
using Platform.Engine.Machine.Firmware.Acpi;
using Platform.Engine.Machine.Pci;
using Platform.Engine.Memory;
using Platform.Engine.Net;
using Platform.Engine.Vcpu;

namespace Platform.Engine.Machine;

/// <summary>Why a machine instance ended.</summary>
public enum MachineExitReason
{
    PowerOff,
    Reset,
    Fatal,
    Stopped,
}

public sealed record MachineExit(MachineExitReason Reason, string? Detail);

/// <summary>
/// One boot of a VM: a KVM VM with its memory, irqchip, PIT, devices and vCPU threads, from power-on to reset or
/// power-off. A reboot with the restart policy builds a fresh instance (as a real reset clears the hardware);
/// what outlives a boot — the serial console, the control socket — belongs to <see cref="VmmHost"/>.
/// </summary>
public sealed class MachineInstance : IVcpuController, IDisposable
{
    private const uint RamSlotBase = 0;
    private const uint Com1Gsi = 4;

    private readonly KvmSystem _kvm;
    private readonly KvmVm _vm;
    private readonly List<KvmVcpu> _vcpus = [];
    private readonly List<VcpuRunner> _runners = [];
    private readonly TaskCompletionSource<MachineExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _stateLock = new(); // Monitor.Wait/PulseAll need an object lock
    private readonly ManualResetEventSlim _allParked = new(false);
    private readonly Lock _kickLock = new();
    private bool _vcpusClosed;
    private readonly IoEventLoop _events = new();
    private MsiRouter? _msi;
    private PciDevices? _pci;
    private VideoMemory? _ownedVideoMemory;
    private BiosMemory? _bios;
    private readonly VideoMemory? _videoMemory;
    /// <summary>The NICs' backends: the caller's, which outlive this boot, or (<see cref="_ownedNics"/>) this machine's own.</summary>
    private NicBackends? _nics;
    private NicBackends? _ownedNics;
    private bool _pauseRequested;
    private bool _stopRequested;
    private int _pausedCount;
    private bool _disposed;
    private readonly IReadOnlyList<Platform.Devices.Virtio.Block.IoThrottle>? _diskThrottles;

    private MachineInstance(MachineConfig config, KvmSystem kvm, KvmVm vm, GuestMemory memory, VideoMemory? videoMemory, NicBackends? nics,
        IReadOnlyList<Platform.Devices.Virtio.Block.IoThrottle>? diskThrottles)
    {
        Config = config;
        _diskThrottles = diskThrottles;
        _kvm = kvm;
        _vm = vm;
        Memory = memory;
        _videoMemory = videoMemory;
        _nics = nics;
    }

    public MachineConfig Config { get; }

    public GuestMemory Memory { get; }

    public IoBus Ports { get; } = new("port I/O");

    public IoBus Mmio { get; } = new("MMIO");

    public Uart16550 Serial { get; private set; } = null!;

    public PostCodePort PostCodes { get; } = new();

    public I8042Controller Keyboard { get; private set; } = null!;

    public CmosRtc Rtc { get; private set; } = null!;

    /// <summary>The HPET, when the machine has one (<see cref="MachineConfig.HasHpet"/>).</summary>
    public Hpet? Hpet { get; private set; }

    /// <summary>fw_cfg at ports 0x510–0x51B, what the BIOS learns the machine from; null without firmware.</summary>
    public FwCfgDevice? FirmwareConfig { get; private set; }

    /// <summary>Port 0x402, where SeaBIOS logs; null without firmware or without a firmware log to write to.</summary>
    public DebugConsolePort? FirmwareDebugPort { get; private set; }

    public BootPlan Boot { get; private set; } = null!;

    /// <summary>What this boot found on the first disk (<see cref="BootSource.Disk"/>); null when it booted a kernel file.</summary>
    public DiskBootInfo? BootedFromDisk { get; private init; }

    /// <summary>PCI bus 0: the host bridge and every virtio function.</summary>
    public Platform.Devices.Pci.PciBus Pci => _pci!.Bus;

    /// <summary>The std-vga, its PCI function and its framebuffer slot; null with <see cref="DisplayKind.None"/>.</summary>
    public MachineDisplay? Display { get; private set; }

    /// <summary>The virtio tablet the display's pointer drives; null without a display or with <see cref="InputKind.Ps2"/>.</summary>
    public VirtioTablet? Tablet { get; private set; }

    /// <summary>The virtio keyboard beside the PS/2 one; null without a display or with <see cref="InputKind.Ps2"/>.</summary>
    public VirtioKeyboard? VirtioKeyboard { get; private set; }

    /// <summary>The machine's PCI side, for the engine's own wiring (the display attaches its function here) and tests.</summary>
    internal PciDevices PciDevices => _pci!;

    /// <summary>Completes when the guest resets, powers off, dies, or <see cref="Stop"/> is called.</summary>
    public Task<MachineExit> Exited => _exit.Task;

    public bool IsPaused
    {
        get
        {
            lock (_stateLock)
            {
                return _pauseRequested && _pausedCount == _runners.Count;
            }
        }
    }

    /// <summary>Builds the machine and loads the kernel; nothing runs until <see cref="Start"/>.</summary>
    /// <param name="videoMemory">The display's video memory when it must outlive this boot (the VMM keeps one across
    /// reboots, so its VNC clients stay connected); it must be <see cref="MachineConfig.VideoMemoryBytes"/> long. Null:
    /// the machine maps its own and unmaps it when disposed.</param>
    /// <param name="firmwareLog">With firmware, where its debug port's bytes go (the VMM's firmware log); null: no debug
    /// port, so the firmware does not log at all.</param>
    /// <param name="nics">The NICs' backends when they must outlive this boot (the VMM keeps them across reboots: a
    /// jailed VMM could not open them again); one per <see cref="MachineConfig.Nics"/>. Null: the machine opens its own
    /// and closes them when disposed.</param>
    /// <param name="diskThrottles">The disks' I/O throttles when they must outlive this boot (the VMM keeps them, so a limit
    /// changed while the VM runs holds after a reboot); one per <see cref="MachineConfig.Disks"/>. Null: each disk gets
    /// one from its configuration.</param>
    public static MachineInstance Create(MachineConfig config, Stream serialOutput, KvmSystem? kvm = null, VideoMemory? videoMemory = null,
        Stream? firmwareLog = null, NicBackends? nics = null, IReadOnlyList<Platform.Devices.Virtio.Block.IoThrottle>? diskThrottles = null)
    {
        config.EnsureBuildable();

        // With firmware nothing is loaded: the BIOS is checked now, so a bad image fails before any KVM work.
        var firmware = config.Firmware == FirmwareKind.Bios ? FirmwareImage.Load(config.FirmwarePath) : null;
        // A BIOS draws on the display only through a VGA BIOS, as QEMU's std-vga brings one; without a display, none.
        var vgaBios = firmware is not null && config.Display == DisplayKind.Std
            ? OptionRomImage.Load(OptionRomImage.StdVgaBiosBeside(config.FirmwarePath))
            : null;
        var (kernel, initrd, commandLine, diskBoot) = firmware is null ? LoadBootFiles(config) : default;

        if (videoMemory is not null && videoMemory.Size != config.VideoMemoryBytes)
        {
            throw new ArgumentException($"The video memory is {videoMemory.Size} bytes; the configuration says {config.VideoMemoryBytes}.", nameof(videoMemory));
        }

        if (nics is not null && nics.Count != config.Nics.Count)
        {
            throw new ArgumentException($"{nics.Count} NIC backends for {config.Nics.Count} NICs.", nameof(nics));
        }

        bool ownsKvm = kvm is null;
        kvm ??= KvmSystem.Open();
        KvmVm? vm = null;
        GuestMemory? memory = null;
        MachineInstance? machine = null;
        try
        {
            kvm.RequireCapabilities([.. RequiredCapabilities]);
            vm = kvm.CreateVm();
            memory = GuestMemory.Allocate(MemoryLayout.RamRegions(config.MemoryBytes));
            machine = new MachineInstance(config, kvm, vm, memory, videoMemory, nics, diskThrottles) { BootedFromDisk = diskBoot };
            if (firmware is null)
            {
                machine.Build(kernel.Span, initrd.Span, commandLine, serialOutput);
            }
            else
            {
                machine.BuildForFirmware(firmware, vgaBios, serialOutput, firmwareLog);
            }

            return machine;
        }
        catch
        {
            if (machine is not null)
            {
                machine.Dispose(); // closes what the build opened (disk images, TAPs), then the VM and memory
            }
            else
            {
                memory?.Dispose();
                vm?.Dispose();
            }

            if (ownsKvm)
            {
                kvm.Dispose();
            }

            throw;
        }
    }

    /// <summary>What the machine relies on: the in-kernel irqchip and PIT, GSI routing with MSI routes, irqfd and ioeventfd.</summary>
    public static IReadOnlyList<KvmCapability> RequiredCapabilities { get; } =
    [
        KvmCapability.Irqchip, KvmCapability.UserMemory, KvmCapability.SetTssAddr, KvmCapability.Pit2,
        KvmCapability.IrqRouting, KvmCapability.ImmediateExit, KvmCapability.Ioeventfd, KvmCapability.Irqfd,
        KvmCapability.SignalMsi,
    ];

    /// <summary>
    /// The kernel, initrd and command line this boot loads: the configured files, or what the first disk's boot
    /// configuration names (read now, at every boot, so a kernel the guest installed is the one booted).
    /// </summary>
    private static (ReadOnlyMemory<byte> Kernel, ReadOnlyMemory<byte> Initrd, string CommandLine, DiskBootInfo? DiskBoot) LoadBootFiles(MachineConfig config)
    {
        if (config.Boot == BootSource.Disk)
        {
            var image = DiskBoot.Load(config.Disks[0].Path, diskIndex: 0, config.MemoryBytes, config.Disks[0].Format);
            return (image.Kernel, image.Initrd, DiskBoot.JoinCommandLine(image.Info.CommandLine, config.CommandLine), image.Info);
        }

        byte[] kernel = ReadImage(config.KernelPath!, "kernel", config.MemoryBytes);
        byte[] initrd = config.InitrdPath is null ? [] : ReadImage(config.InitrdPath, "initrd", config.MemoryBytes);
        return (kernel, initrd, config.CommandLine, null);
    }

    private static byte[] ReadImage(string path, string what, ulong memoryBytes)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new BootException($"The {what} file {path} does not exist.");
        }

        if ((ulong)info.Length > memoryBytes)
        {
            throw new BootException($"The {what} ({info.Length >> 20} MiB) is larger than the VM's memory ({memoryBytes >> 20} MiB).");
        }

        if (info.Length == 0)
        {
            throw new BootException($"The {what} file {path} is empty.");
        }

        return Platform.Devices.Storage.KeptFiles.ReadAllBytes(path);
    }

    private void Build(ReadOnlySpan<byte> kernel, ReadOnlySpan<byte> initrd, string commandLine, Stream serialOutput)
    {
        uint slot = RamSlotBase;
        foreach (var region in Memory.Regions)
        {
            _vm.SetUserMemoryRegion(slot++, region.GuestAddress, region.Size, region.HostAddress);
        }

        // Video memory's slot goes in now, beside RAM's, where the BAR placement below puts BAR 0 (the largest BAR,
        // first in the window). Memory slots added this early cost tens of microseconds; once the irqchip and devices
        // exist, each one waits for a KVM SRCU grace period, 3 to 6 ms of a start-up here. Should BAR 0 land elsewhere,
        // the display moves the slot as it does for any BAR move.
        if (Config.Display == DisplayKind.Std)
        {
            Display = NewDisplay(); // attached with the PCI devices (AttachDisplay)
            Display.MapAhead(MemoryLayout.PciWindowStart);
        }

        CreateChipset();

        AttachDevices(serialOutput);
        AttachPciDevices();
        // A Linux kernel finds a mode set as a VGA BIOS would leave it, described in screen_info; PVH guests set their own.
        var screen = Display is not null && BzImage.LooksLikeBzImage(kernel) ? Display.SetUpForLinux() : null;
        // The same ACPI tables a BIOS boot gets, so a kernel finds the PM block (power-off by S5), the MADT and the DSDT.
        ulong rsdp = DirectBootAcpi.Write(Memory, new AcpiPlatform(Config.CpuCount, _pci!.PowerManagement.PmBase, IsaBridge: false, Config.HasHpet));
        Boot = KernelLoader.Load(Memory, Config.MemoryBytes, kernel, initrd, commandLine, screen, rsdp);
        byte[] mpTable = MpTable.Build(MemoryLayout.MpTable, Config.CpuCount, _pci.InterruptRoutes);
        mpTable.CopyTo(Memory.GetSpan(MemoryLayout.MpTable, mpTable.Length));
        CreateVcpus();
    }

    /// <summary>
    /// A machine for a BIOS: its flash and shadow-RAM map instead of one RAM slot per region, the firmware's debug port,
    /// the same devices, and the BSP at the reset vector. The BIOS places the BARs and writes its own tables (MP, ACPI).
    /// </summary>
    private void BuildForFirmware(FirmwareImage firmware, OptionRomImage? vgaBios, Stream serialOutput, Stream? firmwareLog)
    {
        CreateChipset();
        _bios = BiosMemory.Map(_vm, Memory, firmware, Mmio);
        AttachDevices(serialOutput);
        if (firmwareLog is not null)
        {
            // Only when someone reads the log, as QEMU's isa-debugcon: SeaBIOS logs only to a port that answers, and
            // each byte of its log is an exit (about 0.2 s of a boot under PVM).
            FirmwareDebugPort = new DebugConsolePort(firmwareLog);
            Ports.Register(DebugConsolePort.SeaBiosPort, 1, FirmwareDebugPort);
        }

        AttachPciDevices();
        Display?.MapLegacyWindow(Mmio); // where the VGA BIOS writes text and fonts; BiosMemory leaves the hole for it
        var leaf1 = _kvm.GetSupportedCpuid().FirstOrDefault(e => e.Function == 1);
        var pm = _pci!.PowerManagement;
        // The ACPI tables describe the PM block where SeaBIOS put it, so they are made when SeaBIOS first reads them.
        FirmwareConfig = new FwCfgDevice(Firmware.FirmwareConfig.Build(Config, Memory.Regions, BootPaths(), leaf1.Eax | (ulong)leaf1.Edx << 32, vgaBios?.Bytes,
            () => new AcpiPlatform(Config.CpuCount, pm.PmBase, Hpet: Config.HasHpet)), Memory);
        Ports.Register(FwCfgDevice.BasePort, FwCfgDevice.PortCount, FirmwareConfig);
        Boot = BootPlan.Firmware;
        CreateVcpus();
    }

    /// <summary>
    /// The boot devices in the configured order as the BIOS names them: each disk in configured order (a virtio-blk by its
    /// slot, a SATA disk by the AHCI controller's slot and its port), the CD-ROM drive.
    /// </summary>
    private List<string> BootPaths()
    {
        var paths = new List<string>();
        foreach (var device in Config.BootOrder)
        {
            if (device == BootDevice.Disk)
            {
                for (int i = 0; i < Config.Disks.Count; i++)
                {
                    string name = PciDevices.DiskName(i);
                    if (_pci!.Virtio.FirstOrDefault(v => v.Name == name) is { } virtio)
                    {
                        paths.Add(Firmware.FirmwareConfig.VirtioDiskPath(virtio.Pci.DeviceNumber));
                    }
                    else if (_pci.SataDisks.FirstOrDefault(d => d.Name == name) is { } sata)
                    {
                        paths.Add(Firmware.FirmwareConfig.AhciDrivePath(_pci.Ahci!.DeviceNumber, sata.Port));
                    }
                }
            }
            else if (device == BootDevice.Cdrom && _pci!.Ahci is { } ahci)
            {
                paths.Add(Firmware.FirmwareConfig.AhciDrivePath(ahci.DeviceNumber, port: 0));
            }
        }

        return paths;
    }

    /// <summary>KVM's real-mode helpers, the in-kernel irqchip and PIT, and MSI routing: every machine's first step.</summary>
    private void CreateChipset()
    {
        _vm.SetTssAddress(MemoryLayout.KvmTss);
        _vm.SetIdentityMapAddress(MemoryLayout.KvmIdentityMap);
        _vm.CreateIrqchip();
        _vm.CreatePit2();
        _msi = new MsiRouter(_vm);
        _msi.Install();
    }

    private void CreateVcpus()
    {
        var supported = _kvm.GetSupportedCpuid();
        for (int id = 0; id < Config.CpuCount; id++)
        {
            var vcpu = _vm.CreateVcpu(id);
            _vcpus.Add(vcpu);
            // Only the BSP gets entry registers; APs wait in KVM for the guest's INIT/SIPI.
            CpuSetup.Configure(vcpu, CpuSetup.BuildCpuid(supported, id, Config.CpuCount), id == 0 ? Boot : null);
            _runners.Add(new VcpuRunner(vcpu, Ports, Mmio, this));
        }
    }

    /// <summary>The PC's legacy devices at their usual ports (Firecracker's builder does the same, one step each).</summary>
    private void AttachDevices(Stream serialOutput)
    {
        Serial = new Uart16550(new KvmIrqLine(_vm, Com1Gsi), serialOutput);
        Ports.Register(0x3F8, Uart16550.RegisterCount, Serial);
        Ports.Register(0x80, 1, PostCodes);
        (Keyboard, Rtc, Hpet) = LegacyDevices.Attach(this, _vm);
    }

    /// <summary>
    /// The PCI bus and its virtio devices: disks, NICs, then the rng, each in the next slot, BARs placed last (the
    /// ioeventfds are registered as they land). With firmware the i440FX and PIIX3 come first, as in QEMU's pc machine.
    /// </summary>
    private void AttachPciDevices()
    {
        _pci = new PciDevices(this, _vm, Memory, _msi!, _events, _bios);
        _pci.AttachDisks(Config.Disks, _diskThrottles);
        _nics ??= _ownedNics = NicBackends.Open(Config.Nics);
        _pci.AttachNics(Config.Nics, _nics);
        if (Config.Rng)
        {
            _pci.AttachRng();
        }

        // The display goes after the virtio devices, so their slots do not depend on whether there is one; its
        // tablet and keyboard follow it.
        if (Config.Display == DisplayKind.Std)
        {
            AttachDisplay();
            if (Config.Input == InputKind.Virtio)
            {
                (Tablet, VirtioKeyboard) = _pci.AttachInput();
            }
        }

        // Last, so no other device's slot depends on whether there is a drive or a SATA disk.
        if (Config.HasAhci)
        {
            _pci.AttachAhci(Config.HasCdrom, Config.CdromPath, Config.Disks);
        }

        // Without firmware we place the BARs as firmware would; a BIOS places them itself (and sizes them first, which
        // with decoding already on would map each BAR at all ones for a moment).
        if (Config.Firmware == FirmwareKind.None)
        {
            _pci.PlaceBars();
        }
    }

    /// <summary>
    /// The std-vga: DISPI and VGA ports, the PCI function (BAR 2 through the PCI window), and video memory mapped as
    /// its own KVM slot with dirty logging wherever BAR 0 is placed (<see cref="MachineDisplay"/> follows the moves).
    /// </summary>
    private void AttachDisplay()
    {
        var display = Display ?? NewDisplay();
        _pci!.AttachFunction((_, _) => display.Function, msiVectors: 0, barObserver: display);
        Ports.Register(StdVga.DispiPortBase, StdVga.DispiPortCount, display.Vga.DispiPorts);
        Ports.Register(StdVga.VgaPortBase, StdVga.VgaPortCount, display.Vga.VgaPorts);
        Display = display;
    }

    private MachineDisplay NewDisplay() =>
        new(_vm, _videoMemory ?? (_ownedVideoMemory = VideoMemory.Allocate(Config.VideoMemoryBytes)));

    /// <summary>Per-vCPU counters for query-stats.</summary>
    public IReadOnlyList<VcpuStats> GetVcpuStats() =>
        [.. _runners.Select(r => new VcpuStats(r.Id, r.Exits, ProcStats.ThreadCpuTimeMs(r.ThreadId)))];

    /// <summary>Per-device counters for query-stats: what each device did and what the guest did wrong.</summary>
    public IReadOnlyList<DeviceStats> GetDeviceStats() =>
    [
        new("com1", "uart-16550a", new Dictionary<string, long>
        {
            ["tx_bytes"] = Serial.BytesTransmitted,
            ["rx_bytes"] = Serial.BytesReceived,
            ["bad_accesses"] = Serial.BadAccesses,
        }),
        new("i8042", "i8042", new Dictionary<string, long>
        {
            ["reset_requests"] = Keyboard.ResetRequests,
            ["dropped_bytes"] = Keyboard.DroppedBytes,
            ["bad_accesses"] = Keyboard.BadAccesses,
        }),
        new("post", "port-0x80", new Dictionary<string, long>
        {
            ["writes"] = PostCodes.Writes,
            ["last_code"] = PostCodes.LastCode,
        }),
        new("ports", "io-bus", new Dictionary<string, long>
        {
            ["unclaimed_reads"] = Ports.UnclaimedReads,
            ["unclaimed_writes"] = Ports.UnclaimedWrites,
        }),
        new("mmio", "mmio-bus", new Dictionary<string, long>
        {
            ["unclaimed_reads"] = Mmio.UnclaimedReads,
            ["unclaimed_writes"] = Mmio.UnclaimedWrites,
        }),
        .. _pci?.Stats() ?? [],
        .. FirmwareStats(),
        .. Display is null ? (IEnumerable<DeviceStats>)[] : [Display.Stats()],
    ];

    private IEnumerable<DeviceStats> FirmwareStats()
    {
        if (_bios is null || FirmwareConfig is null)
        {
            yield break;
        }

        yield return new DeviceStats("bios", "bios-memory", new Dictionary<string, long>
        {
            ["rom_writes"] = _bios.Ignored.Writes,
            ["empty_reads"] = _bios.Ignored.Reads,
            ["remap_failures"] = _bios.RemapFailures,
        });
        yield return new DeviceStats("fw_cfg", "fw_cfg", new Dictionary<string, long>
        {
            ["dma_transfers"] = FirmwareConfig.DmaTransfers,
            ["dma_errors"] = FirmwareConfig.DmaErrors,
            ["bad_accesses"] = FirmwareConfig.BadAccesses,
        });
        if (FirmwareDebugPort is not null)
        {
            yield return new DeviceStats("debugcon", "isa-debugcon", new Dictionary<string, long>
            {
                ["bytes"] = FirmwareDebugPort.BytesWritten,
                ["bad_accesses"] = FirmwareDebugPort.BadAccesses,
                ["output_failures"] = FirmwareDebugPort.OutputFailures,
            });
        }
    }

    public void Start()
    {
        // The vCPUs first: each Thread.Start waits until its thread runs, and the guest needs no event loop to begin
        // (an ioeventfd or TAP that fires before the loop waits stays readable, and the loop sees it when it starts).
        foreach (var runner in _runners)
        {
            runner.Start();
        }

        _events.Start();
    }

    /// <summary>Stops every vCPU at its next exit and waits until all are parked.</summary>
    public bool Pause(TimeSpan timeout)
    {
        lock (_stateLock)
        {
            if (_stopRequested)
            {
                return false;
            }

            _pauseRequested = true;
            if (_pausedCount == _runners.Count)
            {
                _allParked.Set();
            }
        }

        KickAll();
        // The last vCPU to park sets the event (WaitUntilRunnable), and Stop sets it too: no polling.
        _allParked.Wait(timeout);
        lock (_stateLock)
        {
            return !_stopRequested && _pausedCount == _runners.Count;
        }
    }

    public void Resume()
    {
        lock (_stateLock)
        {
            _pauseRequested = false;
            _allParked.Reset();
            Monitor.PulseAll(_stateLock);
        }
    }

    /// <summary>Ends the instance from the host side (quit, or tear-down before a restart).</summary>
    public void Stop(MachineExitReason reason = MachineExitReason.Stopped, string? detail = null)
    {
        lock (_stateLock)
        {
            _stopRequested = true;
            _allParked.Set(); // a Pause still waiting gives up
            Monitor.PulseAll(_stateLock);
        }

        _exit.TrySetResult(new MachineExit(reason, detail));
        KickAll();
    }

    private void KickAll()
    {
        // A kick writes into each vCPU's kvm_run page: never after Dispose has unmapped them. Stop from one thread
        // and Dispose from another (VmmHost tears a machine down as soon as it has exited) do meet here.
        lock (_kickLock)
        {
            if (_vcpusClosed)
            {
                return;
            }

            foreach (var runner in _runners)
            {
                runner.Kick();
            }
        }
    }

    bool IVcpuController.WaitUntilRunnable(VcpuRunner vcpu)
    {
        lock (_stateLock)
        {
            while (_pauseRequested && !_stopRequested)
            {
                _pausedCount++;
                if (_pausedCount == _runners.Count)
                {
                    _allParked.Set(); // the last one in tells a waiting Pause
                }

                Monitor.Wait(_stateLock);
                _pausedCount--;
            }

            return !_stopRequested;
        }
    }

    void IVcpuController.OnGuestExit(VcpuRunner vcpu, ExitAction action, string? detail)
    {
        var reason = action switch
        {
            ExitAction.Reset => MachineExitReason.Reset,
            ExitAction.PowerOff => MachineExitReason.PowerOff,
            _ => MachineExitReason.Fatal,
        };
        Stop(reason, detail is null ? $"vCPU {vcpu.Id}" : $"vCPU {vcpu.Id}: {detail}");
    }

    /// <summary>Called by devices (the i8042 reset line) from a vCPU thread.</summary>
    internal void RequestReset(string why) => Stop(MachineExitReason.Reset, why);

    /// <summary>Something a device's backend did that the control plane hears of as an event (a NIC's passt restarted, say).</summary>
    public event Action<VmmEventKind, string>? DeviceEvent;

    internal void RaiseDeviceEvent(VmmEventKind kind, string reason) => DeviceEvent?.Invoke(kind, reason);

    /// <summary>Called by devices (ACPI's S5) from a vCPU thread: the guest powered itself off.</summary>
    internal void RequestPowerOff(string why) => Stop(MachineExitReason.PowerOff, why);

    /// <summary>
    /// Presses the ACPI power button (<c>system_powerdown</c>): true when the guest has ACPI on and so will see it; false
    /// before the guest enabled ACPI (a BIOS, DOS, a kernel booted with acpi=off), when the caller asks another way.
    /// </summary>
    public bool PressPowerButton() => _pci?.PowerManagement.PressPowerButton() ?? false;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Stop();
        foreach (var runner in _runners)
        {
            runner.Join(TimeSpan.FromSeconds(5));
        }

        // Order matters: nothing may touch guest memory once it is unmapped. The vCPUs are out; then the event
        // loop (which wakes device workers) stops; then each device's worker is stopped and joined.
        _events.Stop();
        _pci?.Dispose();
        _ownedNics?.Dispose(); // after the devices' workers, which use them, are stopped
        Display?.Close(); // no dirty-log read may reach the VM's descriptor once it is closed
        lock (_kickLock)
        {
            _vcpusClosed = true;
        }

        foreach (var vcpu in _vcpus)
        {
            vcpu.Dispose();
        }

        Rtc?.Dispose();
        Hpet?.Dispose();
        _events.Dispose();
        _msi?.Dispose();
        _vm.Dispose();
        _bios?.Dispose();
        Memory.Dispose();
        ((IDisposable?)_ownedVideoMemory)?.Dispose();
    }
}
