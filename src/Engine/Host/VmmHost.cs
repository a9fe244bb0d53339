using System.Diagnostics;
using Platform.Engine.Boot;
using Platform.Engine.Boot.Disk;
using Platform.Engine.Control;
using Platform.Engine.Display;
using Platform.Engine.Kvm;
using Platform.Engine.Machine;
using Platform.Engine.Net;
using Platform.Engine.Vnc;

namespace Platform.Engine.Host;

/// <summary>How <c>system_powerdown</c> asked the guest: the <c>POWERDOWN</c> event's reason.</summary>
public static class PowerdownMethods
{
    public const string AcpiPowerButton = "acpi-power-button";
    public const string CtrlAltDel = "ctrl-alt-del";
}

/// <summary>An asynchronous event; the control socket sends it by its QMP name (<see cref="ControlProtocol.Events"/>).</summary>
public sealed record VmmEvent(VmmEventKind Kind, string? Detail = null);

/// <summary>
/// Runs a VM from boot to its end: builds a <see cref="MachineInstance"/>, rebuilds it on reset when the policy says
/// restart, and maps how it ended to the process exit code. Owns what outlives one boot: the serial output and the
/// event stream.
/// </summary>
public sealed class VmmHost : IDisposable, ISerialInput
{
    /// <summary>
    /// Bytes of serial.sock input let into the UART's queue at once: one FIFO's worth. The rest waits in each client's
    /// own queue (<see cref="SerialServer"/>), so a paste delays another client's typing by at most this much.
    /// </summary>
    public const int SerialInputBacklog = Devices.Legacy.Uart16550.FifoSize;

    // XT scancodes of the keys system_powerdown presses (0xE0 prefix for Delete on the cursor block).
    private const int LeftCtrl = 0x1D;
    private const int LeftAlt = 0x38;
    private const int Delete = 0xE053;

    private readonly MachineConfig _config;
    private readonly Stream _serialOutput;
    private readonly KvmSystem _kvm;
    private readonly Lock _lock = new();
    private readonly Stopwatch _uptime = new();
    private readonly FileStream? _firmwareLog;
    private MachineInstance? _current;
    private MachineInstance? _prepared;
    /// <summary>The NICs' passt processes and TAPs, opened for the first boot and kept for every reboot (<see cref="NicBackends"/>).</summary>
    private NicBackends? _nics;

    /// <summary>
    /// Each disk's I/O limits, made for the first boot and handed to every boot, as the NICs' backends are: a limit set
    /// while the VM runs (<see cref="SetDiskThrottle"/>, block_set_io_throttle) holds after the guest's reboot.
    /// </summary>
    private Platform.Devices.Virtio.Block.IoThrottle[]? _diskThrottles;

    /// <summary>The NICs whose cable set_link pulled out, by index: every boot's devices start so (guarded by <see cref="_lock"/>).</summary>
    private readonly HashSet<int> _linksDown = [];

    /// <summary>
    /// The disc between two boots (guarded by <see cref="_lock"/>): taken, still open, out of the drive of the boot that
    /// ended and loaded into the next one's, so it survives a reboot without being opened again by name, which a jailed
    /// VMM could not do for a library ISO and cannot do at all for one passed in as a descriptor. Null while a boot runs
    /// (the drive owns its disc) and when the drive is empty. The first boot opens the configuration's ISO by path.
    /// </summary>
    private Devices.Storage.Ahci.IsoImage? _carriedMedium;
    private bool _quitRequested;

    /// <param name="vnc">How the VNC server greets clients (desktop name, password); used when the machine has a display.</param>
    public VmmHost(MachineConfig config, Stream serialOutput, VncServerOptions? vnc = null)
    {
        _config = config;
        _serialOutput = serialOutput;
        if (config.FirmwareLogPath is { } logPath)
        {
            // One file across reboots, appended to as QEMU's -chardev file does not (it truncates): a reboot's log
            // follows the last boot's instead of replacing it.
            _firmwareLog = new FileStream(logPath, new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                Share = FileShare.Read,
                BufferSize = 4096,
            });
        }

        _kvm = KvmSystem.Open();
        if (config.Display != DisplayKind.None)
        {
            Display = new VncDisplay(config.VideoMemoryBytes, vnc ?? new VncServerOptions());
        }
    }

    /// <summary>The screen and its VNC server, across reboots; null without a display.</summary>
    public VncDisplay? Display { get; }

    public event Action<VmmEvent>? Event;

    /// <summary>Where a disk boot says what it found at each boot, and why a guest died (the VMM's stderr, which the dashboard keeps in vmm.log).</summary>
    public TextWriter? Log { get; init; }

    public VmRunState State { get; private set; } = VmRunState.Starting;

    public int Boots { get; private set; }

    public MachineConfig Config => _config;

    public MachineInstance? Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>
    /// Builds the first boot's machine now (loads the kernel, creates the KVM VM), so a bad image or a missing
    /// capability fails before the VMM announces itself on its sockets. <see cref="RunAsync"/> does it otherwise.
    /// </summary>
    public void Prepare()
    {
        lock (_lock)
        {
            _prepared ??= CreateMachine();
        }
    }

    /// <summary>Boots, reboots per policy, and returns how the VM ended.</summary>
    public async Task<VmmExitCode> RunAsync()
    {
        _uptime.Start();
        while (true)
        {
            MachineInstance machine;
            lock (_lock)
            {
                if (_quitRequested)
                {
                    return VmmExitCode.PowerOff;
                }

                try
                {
                    machine = _prepared ?? CreateMachine();
                }
                catch (BootException ex)
                {
                    // A reboot that finds nothing to boot (a disk boot whose guest removed its kernel, say) ends the VM.
                    SetState(VmRunState.Stopped, VmmEventKind.Shutdown, ControlProtocol.ShutdownReasons.BootFailed);
                    if (Boots == 0)
                    {
                        throw;
                    }

                    throw new BootException($"The VM cannot boot again after its reset: {ex.Message}", ex);
                }

                _prepared = null;
                _current = machine;
                Boots++;
            }

            // VNC clients stay connected across reboots: they now see (and type into) this boot's devices.
            Display?.Attach(machine);
            machine.Serial.InputRoomAvailable = () => RoomAvailable?.Invoke();
            RoomAvailable?.Invoke(); // serial input held while no machine ran

            machine.Start();
            SetState(VmRunState.Running, VmmEventKind.Resume);
            var exit = await machine.Exited.ConfigureAwait(false);
            lock (_lock)
            {
                _current = null;
                // The drive keeps its disc (or its emptiness, after an eject) across a reboot, as a real drive does; from
                // here to the next boot the media commands change what that boot's drive will hold.
                _carriedMedium = machine.PciDevices.Cdrom?.TakeMedium();
            }

            Display?.Detach();
            machine.Dispose();
            if (_quitRequested)
            {
                // Quit wins over whatever the guest was doing at that moment (a reset racing the quit, say).
                SetState(VmRunState.Stopped, VmmEventKind.Shutdown, ControlProtocol.ShutdownReasons.HostQuit);
                return VmmExitCode.PowerOff;
            }

            switch (exit.Reason)
            {
                case MachineExitReason.Reset when _config.OnReboot == RebootPolicy.Restart:
                    Raise(VmmEventKind.Reset, exit.Detail);
                    continue;
                case MachineExitReason.Reset:
                    Raise(VmmEventKind.Reset, exit.Detail);
                    SetState(VmRunState.Stopped, VmmEventKind.Shutdown, ControlProtocol.ShutdownReasons.GuestReset);
                    return VmmExitCode.GuestReset;
                case MachineExitReason.Fatal:
                    Log?.WriteLine($"platform-vmm: the guest died: {exit.Detail}");
                    SetState(VmRunState.Stopped, VmmEventKind.GuestPanicked, exit.Detail);
                    return VmmExitCode.GuestFatal;
                default:
                    SetState(VmRunState.Stopped, VmmEventKind.Shutdown, exit.Reason == MachineExitReason.Stopped ? ControlProtocol.ShutdownReasons.HostQuit : ControlProtocol.ShutdownReasons.GuestShutdown);
                    return VmmExitCode.PowerOff;
            }
        }
    }

    public bool Pause()
    {
        var machine = Current;
        if (machine is null || !machine.Pause(TimeSpan.FromSeconds(5)))
        {
            return false;
        }

        SetState(VmRunState.Paused, VmmEventKind.Stop);
        return true;
    }

    public bool Resume()
    {
        var machine = Current;
        if (machine is null)
        {
            return false;
        }

        machine.Resume();
        SetState(VmRunState.Running, VmmEventKind.Resume);
        return true;
    }

    /// <summary>
    /// Asks the guest to shut down, as QEMU's <c>system_powerdown</c>: the ACPI power button when the guest has ACPI on
    /// (its OS set SCI_EN, on a firmware machine or a direct boot alike), otherwise Ctrl-Alt-Del on the PS/2 keyboard, the ACPI-less way to ask a
    /// PC guest to shut down or reboot. The <c>POWERDOWN</c> event says which (<see cref="PowerdownMethods"/>).
    /// </summary>
    /// <returns>False when no machine is running to ask.</returns>
    public bool Powerdown()
    {
        var machine = Current;
        if (machine is null)
        {
            return false;
        }

        if (machine.PressPowerButton())
        {
            Raise(VmmEventKind.Powerdown, PowerdownMethods.AcpiPowerButton);
            return true;
        }

        var keyboard = machine.Keyboard;

        ReadOnlySpan<int> keys = [LeftCtrl, LeftAlt, Delete];
        foreach (int key in keys)
        {
            keyboard.KeyEvent(key, down: true);
        }

        for (int i = keys.Length - 1; i >= 0; i--)
        {
            keyboard.KeyEvent(keys[i], down: false);
        }

        Raise(VmmEventKind.Powerdown, PowerdownMethods.CtrlAltDel);
        return true;
    }

    public VmmStatus GetStatus()
    {
        var state = State;
        return new VmmStatus(state, state == VmRunState.Running, Boots, _uptime.ElapsedMilliseconds);
    }

    public VmmStats GetStats()
    {
        var machine = Current;
        return new VmmStats(
            Boots,
            _uptime.ElapsedMilliseconds,
            _config.MemoryBytes,
            ProcStats.ResidentSetBytes(),
            machine?.GetVcpuStats() ?? [],
            [.. machine?.GetDeviceStats() ?? [], .. Display is null ? (IEnumerable<DeviceStats>)[] : [Display.Stats()]]);
    }

    private MachineInstance CreateMachine()
    {
        // Only the first boot opens the configured ISO by path; every later one gets the disc the last boot's drive held.
        var config = _config.HasCdrom && Boots > 0 ? _config with { CdromPath = null } : _config;
        _nics ??= NicBackends.Open(_config.Nics);
        _diskThrottles ??= [.. _config.Disks.Select(d => new Platform.Devices.Virtio.Block.IoThrottle(d.BytesPerSecond, d.Iops))];
        var machine = MachineInstance.Create(config, _serialOutput, _kvm, Display?.VideoMemory, _firmwareLog, _nics, _diskThrottles);
        if (_carriedMedium is { } disc && machine.PciDevices.Cdrom is { } drive)
        {
            drive.Load(disc);
            _carriedMedium = null;
        }

        machine.DeviceEvent += Raise;
        lock (_lock)
        {
            foreach (int down in _linksDown)
            {
                NicDevice(machine, down)?.SetLinkUp(false);
            }
        }

        if (machine.BootedFromDisk is { } disk && Log is { } log)
        {
            log.WriteLine($"platform-vmm: boot {Boots + 1}: {disk.Summary}");
            log.WriteLine($"platform-vmm: command line: {DiskBoot.JoinCommandLine(disk.CommandLine, _config.CommandLine)}");
            foreach (string note in disk.Notes)
            {
                log.WriteLine($"platform-vmm: note: {note}");
            }
        }

        return machine;
    }

    /// <summary>
    /// Sets disk <paramref name="device"/>'s (<c>disk0</c>…) limits now, 0 for none (block_set_io_throttle): requests
    /// from now on wait by them, on this boot and the next ones. Refusals throw <see cref="ControlCommandException"/>.
    /// </summary>
    public void SetDiskThrottle(string device, long bytesPerSecond, int iops)
    {
        var throttles = _diskThrottles ?? throw new ControlCommandException(ControlProtocol.ErrorClasses.WrongState,
            "block_set_io_throttle needs a VM that has booted");
        int index = device.StartsWith("disk", StringComparison.Ordinal)
            && int.TryParse(device.AsSpan(4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) ? n : -1;
        if (index < 0 || index >= throttles.Length)
        {
            throw new ControlCommandException(ControlProtocol.ErrorClasses.DeviceNotFound, throttles.Length == 0
                ? $"no disk named '{device}': the VM has no disks"
                : $"no disk named '{device}': the VM has {string.Join(", ", Enumerable.Range(0, throttles.Length).Select(i => $"disk{i}"))}");
        }

        if (_config.Disks[index].Bus != Platform.Devices.Virtio.Block.DiskInterface.Virtio)
        {
            // The AHCI port runs a SATA disk's commands on the vCPU that issued them, with no throttle to hold them.
            throw new ControlCommandException(ControlProtocol.ErrorClasses.InvalidCommand,
                $"'{device}' is a SATA disk; I/O limits apply to virtio disks only");
        }

        throttles[index].Set(bytesPerSecond == 0 ? null : bytesPerSecond, iops == 0 ? null : iops);
    }

    /// <summary>
    /// Grows disk <paramref name="device"/> (<c>disk0</c>…) of the running or paused machine to <paramref name="sizeBytes"/>
    /// (block_resize): the image file grows on the open backend, and virtio-blk raises its configuration change
    /// interrupt. The image keeps the size, so the next boot sees it too. Refusals throw
    /// <see cref="ControlCommandException"/> with the error class a client branches on.
    /// </summary>
    public void ResizeDisk(string device, long sizeBytes)
    {
        var machine = Current ?? throw new ControlCommandException(ControlProtocol.ErrorClasses.WrongState,
            $"block_resize needs a running or paused VM; the VM is {GetStatus().Status}");
        var target = GrowableDisk(machine, device);
        if (target.ReadOnly)
        {
            throw new ControlCommandException(ControlProtocol.ErrorClasses.ReadOnlyDevice, $"{device} is read-only; a read-only disk cannot grow");
        }

        long size = target.Size;
        if (sizeBytes < size)
        {
            throw new ControlCommandException(ControlProtocol.ErrorClasses.ShrinkRefused,
                $"{device} is {size} bytes; shrinking it to {sizeBytes} would cut off the guest's partitions and file systems, so only growing is allowed");
        }

        if (sizeBytes <= 0 || sizeBytes % Platform.Devices.Virtio.Block.VirtioBlock.SectorSize != 0)
        {
            throw new ControlCommandException(ControlProtocol.ErrorClasses.InvalidArgument,
                $"size {sizeBytes} is not a whole number of 512-byte sectors");
        }

        if (sizeBytes > Platform.Devices.Virtio.Block.Images.DiskImageCreator.MaxSizeBytes)
        {
            throw new ControlCommandException(ControlProtocol.ErrorClasses.InvalidArgument,
                $"size {sizeBytes} is more than the largest disk, {Platform.Devices.Virtio.Block.Images.DiskImageCreator.MaxSizeBytes >> 40} TiB");
        }

        try
        {
            target.Grow(sizeBytes);
        }
        catch (IOException ex)
        {
            throw new ControlCommandException(ControlProtocol.ErrorClasses.Failed, $"{device} could not grow: {ex.Message}", ex);
        }

        Log?.WriteLine($"platform-vmm: {device} grew from {size} to {sizeBytes} bytes (block_resize){target.Notice}");
    }

    /// <summary>A disk block_resize can grow: a virtio-blk disk (the guest is told at once) or a SATA disk.</summary>
    private readonly record struct Growable(long Size, bool ReadOnly, Action<long> Grow, string Notice);

    private static Growable GrowableDisk(MachineInstance machine, string device)
    {
        if (machine.PciDevices.SataDisks.FirstOrDefault(d => d.Name == device) is { } sata)
        {
            // ATA has no capacity-change notice: the guest reads the size again from IDENTIFY (Linux on a rescan of
            // the disk: echo 1 > /sys/class/block/sdX/device/rescan), as with QEMU's AHCI disks.
            return new Growable(sata.Disk.Backend.Length, sata.Disk.IsReadOnly, sata.Disk.Grow,
                "; a SATA disk: the guest sees it when it next reads IDENTIFY (Linux: a rescan)");
        }

        if (machine.PciDevices.Virtio.FirstOrDefault(v => v.Name == device)?.Device is Platform.Devices.Virtio.Block.VirtioBlock blk)
        {
            return new Growable(blk.SizeBytes, blk.IsReadOnly, blk.Grow, "");
        }

        string[] disks = [.. machine.PciDevices.Virtio.Where(v => v.Device is Platform.Devices.Virtio.Block.VirtioBlock).Select(v => v.Name),
            .. machine.PciDevices.SataDisks.Select(d => d.Name)];
        throw new ControlCommandException(ControlProtocol.ErrorClasses.DeviceNotFound, disks.Length == 0
            ? $"no disk named '{device}': the VM has no disks"
            : $"no disk named '{device}': the VM has {string.Join(", ", disks)}");
    }

    /// <summary>
    /// Takes the disc out of CD-ROM drive <paramref name="device"/> (eject). While the guest has locked the tray the
    /// drive only tells the guest that the user pressed eject (GESN), and the command fails with DeviceLocked unless
    /// <paramref name="force"/>, as QEMU's eject does.
    /// </summary>
    public void EjectMedium(string device, bool force)
    {
        lock (_lock)
        {
            var drive = CdromDrive(device, ControlProtocol.Commands.Eject);
            if (drive is null)
            {
                // Between boots: the next boot's drive is empty, and a disc passed in as a descriptor is closed now.
                _carriedMedium?.Dispose();
                _carriedMedium = null;
            }
            else if (!drive.Eject(force))
            {
                throw new ControlCommandException(ControlProtocol.ErrorClasses.DeviceLocked,
                    $"the guest has locked {device}'s tray and was asked to eject; retry, or give force to take the disc out anyway");
            }
        }

        Log?.WriteLine($"platform-vmm: {device}: ejected{(force ? " (forced)" : "")}");
    }

    /// <summary>
    /// Plugs NIC <paramref name="name"/>'s cable in or pulls it out (set_link). The state is the VM's, not the boot's:
    /// each later boot's device starts with it, as QEMU keeps a link down across system_reset.
    /// </summary>
    public void SetLink(string name, bool up)
    {
        int index = Enumerable.Range(0, _config.Nics.Count).FirstOrDefault(i => Machine.Pci.PciDevices.NicName(i) == name, -1);
        if (index < 0)
        {
            throw new ControlCommandException(ControlProtocol.ErrorClasses.DeviceNotFound, _config.Nics.Count == 0
                ? $"no NIC named '{name}': the VM has none"
                : $"no NIC named '{name}': the VM has net0 to net{_config.Nics.Count - 1}");
        }

        lock (_lock)
        {
            if (up)
            {
                _linksDown.Remove(index);
            }
            else
            {
                _linksDown.Add(index);
            }

            NicDevice(_current, index)?.SetLinkUp(up);
        }

        Log?.WriteLine($"platform-vmm: {name}: link {(up ? "up" : "down")} (set_link)");
    }

    /// <summary>The virtio-net of NIC <paramref name="index"/> in <paramref name="machine"/>, if there is one.</summary>
    private static Devices.Virtio.Net.VirtioNet? NicDevice(MachineInstance? machine, int index) =>
        machine?.PciDevices.Virtio.FirstOrDefault(v => v.Name == Machine.Pci.PciDevices.NicName(index))?.Device as Devices.Virtio.Net.VirtioNet;

    /// <summary>Puts the ISO image at <paramref name="path"/> in CD-ROM drive <paramref name="device"/>, replacing any disc.</summary>
    public void ChangeMedium(string device, string path) =>
        ChangeMedium(device, () => Devices.Storage.Ahci.IsoImage.Open(path), path);

    /// <summary>
    /// Puts the ISO image open in <paramref name="file"/> (a descriptor passed over control.sock, which is how a jailed VMM
    /// gets a library ISO it could not open by name) in CD-ROM drive <paramref name="device"/>, replacing any disc. The
    /// drive reports it as <paramref name="name"/>. The VMM owns <paramref name="file"/> from now on: it is closed when the
    /// disc is ejected or replaced, by the host or the guest, or when the command is refused.
    /// </summary>
    public void ChangeMedium(string device, string name, Microsoft.Win32.SafeHandles.SafeFileHandle file) =>
        ChangeMedium(device, () => Devices.Storage.Ahci.IsoImage.Open(name, file), $"{name} (a passed descriptor)");

    /// <summary>Opens the image (which then owns its file, whatever happens next), then puts it in the drive or keeps it for the next boot.</summary>
    private void ChangeMedium(string device, Func<Devices.Storage.Ahci.IsoImage> open, string described)
    {
        Devices.Storage.Ahci.IsoImage image;
        try
        {
            image = open();
        }
        catch (Devices.Storage.Ahci.IsoImageException ex)
        {
            throw new ControlCommandException(ControlProtocol.ErrorClasses.InvalidArgument, ex.Message, ex);
        }

        lock (_lock)
        {
            Devices.Storage.Ahci.AtapiCdrom? drive;
            try
            {
                drive = CdromDrive(device, ControlProtocol.Commands.ChangeMedium);
            }
            catch
            {
                image.Dispose();
                throw;
            }

            if (drive is null)
            {
                // Between boots: the next boot's drive gets this disc, still open; the one kept for it is closed.
                _carriedMedium?.Dispose();
                _carriedMedium = image;
            }
            else
            {
                drive.Insert(image); // closes the disc it replaces
            }
        }

        Log?.WriteLine($"platform-vmm: {device}: inserted {described}");
    }

    /// <summary>The running machine's drive; null between two boots (called under <see cref="_lock"/>).</summary>
    private Devices.Storage.Ahci.AtapiCdrom? CdromDrive(string device, string command)
    {
        if (!_config.HasCdrom || device != Machine.Pci.PciDevices.CdromName)
        {
            throw new ControlCommandException(ControlProtocol.ErrorClasses.DeviceNotFound, _config.HasCdrom
                ? $"no CD-ROM drive named '{device}': the VM has {Machine.Pci.PciDevices.CdromName}"
                : $"no CD-ROM drive named '{device}': the VM has none");
        }

        if (_current is null && (Boots == 0 || State is VmRunState.Stopped or VmRunState.ShuttingDown))
        {
            throw new ControlCommandException(ControlProtocol.ErrorClasses.WrongState,
                $"{command} needs a running or paused VM; the VM is {GetStatus().Status}");
        }

        return _current?.PciDevices.Cdrom;
    }

    /// <summary>A hard reset, as the reset button: the machine is rebuilt (or the VMM exits, per policy).</summary>
    public void Reset() => Current?.Stop(MachineExitReason.Reset, "host reset");

    /// <summary>Ends the VM now; <see cref="RunAsync"/> returns <see cref="VmmExitCode.PowerOff"/>.</summary>
    public void Quit()
    {
        lock (_lock)
        {
            _quitRequested = true;
        }

        State = VmRunState.ShuttingDown;
        Current?.Stop();
    }

    /// <summary>Host input for the guest's COM1; returns how many bytes the UART took.</summary>
    public int SendSerialInput(ReadOnlySpan<byte> bytes) => Current?.Serial.Receive(bytes) ?? 0;

    /// <summary>A byte from serial.sock: taken while fewer than <see cref="SerialInputBacklog"/> wait in the UART; held between boots.</summary>
    public bool TryWrite(byte value) => Current?.Serial.TryReceive(value, SerialInputBacklog) ?? false;

    /// <summary>Set by the serial server: each boot's UART calls it, and a new boot calls it at once for input held meanwhile.</summary>
    public Action? RoomAvailable { get; set; }

    private void SetState(VmRunState state, VmmEventKind kind, string? detail = null)
    {
        State = state;
        Raise(kind, detail);
    }

    private void Raise(VmmEventKind kind, string? detail) => Event?.Invoke(new VmmEvent(kind, detail));

    /// <summary>Call after <see cref="RunAsync"/> has returned: the display's video memory goes with it.</summary>
    public void Dispose()
    {
        Quit();
        _prepared?.Dispose();
        _carriedMedium?.Dispose();
        _nics?.Dispose();
        Display?.Dispose();
        _firmwareLog?.Dispose();
        _kvm.Dispose();
    }
}
