using Platform.Devices.Display;
using Platform.Devices.Pci;
using Platform.Engine.Boot;
using Platform.Engine.Control;
using Platform.Engine.Kvm;
using Platform.Engine.Machine;

namespace Platform.Engine.Display;

/// <summary>
/// One boot's display: the std-vga device, its PCI function, and the KVM memory slot that maps video memory into the
/// guest at BAR 0 with dirty logging — re-registered wherever the guest moves the BAR, so guest drawing never exits
/// and the VNC server reads only the pages that changed.
/// </summary>
/// <remarks>
/// <para>
/// The slot follows BAR 0 through <see cref="IPciBarObserver"/> (on the vCPU thread that wrote configuration space):
/// it is deleted when the BAR stops decoding and added again at the new address, but only inside the PCI window; a
/// BAR the guest puts elsewhere stays unmapped and its accesses (if they reach us at all) are served by
/// <see cref="StdVgaPciFunction"/> through MMIO exits. The slot never overlaps RAM because the window lies in the hole.
/// </para>
/// <para>
/// <see cref="TryReadDirtyLog"/> runs on the display's refresh thread. One lock orders it against slot moves and
/// <see cref="Close"/>, so KVM_GET_DIRTY_LOG never names a slot being deleted nor a VM file descriptor already closed.
/// The log cannot tell of writes made while the slot was away (they went through MMIO exits) or by the device itself,
/// so the first read after a move, or after any such write, answers "no log" and the server compares the whole screen.
/// </para>
/// </remarks>
public sealed class MachineDisplay : IPciBarObserver
{
    /// <summary>The KVM memory slot of video memory (RAM uses slots 0 and 1).</summary>
    internal const uint MemorySlot = 8;

    /// <summary>The mode set before a Linux kernel starts, as a VGA BIOS would leave one (QEMU's default too).</summary>
    public const int LinuxWidth = 1024, LinuxHeight = 768, LinuxBitsPerPixel = 32;

    private readonly KvmVm _vm;
    private readonly VideoMemory _memory;
    private readonly Lock _lock = new();
    private PciBarMapping? _slotMapping;
    private bool _closed;
    private bool _logIncomplete = true;
    private long _barWritesSeen;
    private long _slotMoves;
    private long _slotFailures;
    private long _dirtyLogFailures;
    private string? _lastError;

    internal MachineDisplay(KvmVm vm, VideoMemory memory)
    {
        _vm = vm;
        _memory = memory;
        Vga = new StdVga(memory.Memory);
        Function = new StdVgaPciFunction(Vga);
    }

    public StdVga Vga { get; }

    public StdVgaPciFunction Function { get; }

    /// <summary>Where the memory slot maps video memory now; null while it is not mapped.</summary>
    public PciBarMapping? SlotMapping
    {
        get
        {
            lock (_lock)
            {
                return _slotMapping;
            }
        }
    }

    /// <summary>
    /// True when the legacy window 0xA0000–0xBFFFF reaches the std-vga (firmware machines, <see cref="MapLegacyWindow"/>):
    /// the display then shows text mode and mode 13h while no VBE mode is set.
    /// </summary>
    public bool ShowsLegacyModes { get; private set; }

    /// <summary>
    /// Puts the legacy window on the MMIO bus. Only a firmware machine has the hole there (a direct boot's RAM covers
    /// it); every access exits, which the VGA BIOS's text output costs (one exit per character and attribute byte).
    /// </summary>
    internal void MapLegacyWindow(IoBus mmio)
    {
        mmio.Register(StdVga.LegacyWindowBase, StdVga.LegacyWindowSize, Vga.LegacyWindow);
        ShowsLegacyModes = true;
    }

    /// <summary>Times the slot was registered at a new address.</summary>
    public long SlotMoves => Interlocked.Read(ref _slotMoves);

    /// <summary>BAR 0 positions KVM refused (or that lay outside the PCI window), left unmapped.</summary>
    public long SlotFailures => Interlocked.Read(ref _slotFailures);

    public long DirtyLogFailures => Interlocked.Read(ref _dirtyLogFailures);

    /// <summary>
    /// Sets the mode a Linux kernel finds on entry (1024×768, 32 bpp) and describes it for the zero page. Call after
    /// the BARs are placed: <c>lfb_base</c> is where BAR 0 decodes.
    /// </summary>
    internal ScreenInfo SetUpForLinux()
    {
        var bar = Function.BarMapping(StdVgaPciFunction.VideoMemoryBar)
            ?? throw new InvalidOperationException("The display's BAR 0 is not placed yet.");
        var mode = Vga.SetModeAsFirmware(LinuxWidth, LinuxHeight, LinuxBitsPerPixel);
        return new ScreenInfo(mode.Width, mode.Height, mode.BitsPerPixel, mode.Stride, bar.Address + (ulong)mode.StartOffset,
            (ulong)_memory.Size);
    }

    /// <summary>
    /// Maps video memory at <paramref name="address"/> before BAR 0 decodes there (a direct boot's build, while KVM
    /// adds slots cheaply): when the BAR is placed at that address the slot is already in; anywhere else, it moves.
    /// </summary>
    internal void MapAhead(ulong address)
    {
        lock (_lock)
        {
            if (_closed || _slotMapping is not null)
            {
                return;
            }

            var ahead = new PciBarMapping(address, (ulong)_memory.Size);
            if (_vm.TrySetUserMemoryRegion(MemorySlot, ahead.Address, ahead.Size, _memory.HostAddress, KvmVm.MemLogDirtyPages) == 0)
            {
                _slotMapping = ahead;
            }
        }
    }

    public void BarMappingChanged(PciFunction device, int barIndex, PciBarMapping? previous, PciBarMapping? current)
    {
        if (barIndex != StdVgaPciFunction.VideoMemoryBar)
        {
            return; // BAR 2 is served by the PCI window as it moves; nothing to do here.
        }

        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            if (current is not null && current == _slotMapping)
            {
                // Mapped ahead exactly there (MapAhead): the slot stays; the log starts with this mapping.
                _logIncomplete = true;
                Interlocked.Increment(ref _slotMoves);
                return;
            }

            if (_slotMapping is not null)
            {
                int removed = _vm.TryRemoveUserMemoryRegion(MemorySlot);
                if (removed != 0)
                {
                    Fail($"deleting the framebuffer slot failed: errno {removed}");
                }

                _slotMapping = null;
            }

            _logIncomplete = true;
            if (current is not { } bar)
            {
                return;
            }

            if (bar.Address < MemoryLayout.PciWindowStart || bar.End > MemoryLayout.PciWindowEnd || bar.Size != (ulong)_memory.Size)
            {
                Fail($"BAR 0 at 0x{bar.Address:x} lies outside the PCI window; video memory is reached through exits");
                return;
            }

            int error = _vm.TrySetUserMemoryRegion(MemorySlot, bar.Address, bar.Size, _memory.HostAddress, KvmVm.MemLogDirtyPages);
            if (error != 0)
            {
                Fail($"mapping video memory at 0x{bar.Address:x} failed: errno {error}");
                return;
            }

            _slotMapping = bar;
            Interlocked.Increment(ref _slotMoves);
        }
    }

    /// <summary>
    /// Fills <paramref name="dirtyPages"/> with the pages of video memory the guest wrote since the last call (the
    /// <see cref="Vnc.DirtyPageLogReader"/> contract); false when the log cannot be trusted this time and the whole
    /// screen must be compared.
    /// </summary>
    public bool TryReadDirtyLog(Span<ulong> dirtyPages)
    {
        lock (_lock)
        {
            if (_closed || _slotMapping is null)
            {
                return false;
            }

            int error = _vm.TryGetDirtyLog(MemorySlot, (ulong)_memory.Size, dirtyPages);
            if (error != 0)
            {
                Interlocked.Increment(ref _dirtyLogFailures);
                _lastError = $"KVM_GET_DIRTY_LOG failed: errno {error}";
                return false;
            }

            long barWrites = Function.VideoMemoryWritesThroughBar;
            if (_logIncomplete || barWrites != _barWritesSeen)
            {
                _logIncomplete = false;
                _barWritesSeen = barWrites;
                return false;
            }

            return true;
        }
    }

    /// <summary>Stops using the VM: called before the VM's file descriptor is closed.</summary>
    internal void Close()
    {
        lock (_lock)
        {
            _closed = true;
            _slotMapping = null;
        }
    }

    /// <summary>Mode and slot counters for query-stats (the VNC server's own come from the host).</summary>
    internal DeviceStats Stats()
    {
        var mode = Vga.Mode;
        string? lastError;
        lock (_lock)
        {
            lastError = _lastError;
        }

        return new DeviceStats("display", "std-vga", new Dictionary<string, long>
        {
            ["mode_enabled"] = mode.Enabled ? 1 : 0,
            ["mode_blanked"] = mode.Blanked ? 1 : 0,
            ["mode_width"] = mode.Width,
            ["mode_height"] = mode.Height,
            ["mode_bpp"] = mode.BitsPerPixel,
            ["video_memory_bytes"] = _memory.Size,
            ["bad_accesses"] = Vga.BadAccesses + Function.BadAccesses,
            ["legacy_unmapped_accesses"] = Vga.UnmappedWindowAccesses,
            ["adjusted_values"] = Vga.AdjustedValues,
            ["ignored_writes"] = Vga.IgnoredWrites,
            ["slot_moves"] = SlotMoves,
            ["slot_failures"] = SlotFailures,
            ["bar_writes_by_exit"] = Function.VideoMemoryWritesThroughBar,
            ["dirty_log_failures"] = DirtyLogFailures,
        }) { LastError = lastError };
    }

    private void Fail(string why)
    {
        Interlocked.Increment(ref _slotFailures);
        _lastError = why;
    }
}
