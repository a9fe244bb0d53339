using Platform.Devices.Display;
using Platform.Engine.Control;
using Platform.Engine.Machine;
using Platform.Engine.Vnc;

namespace Platform.Engine.Display;

/// <summary>
/// A VM's screen across its boots: the video memory (mapped once for the VMM's life and handed to each boot's std-vga),
/// the <see cref="VncServer"/> and its refresh loop. Each boot's machine is attached after it is built and detached
/// before it is torn down, so VNC clients stay connected through a reboot: they see the screen go blank (the new
/// std-vga starts with no mode) and the new boot's mode as a DesktopSize, and their keys and pointer go to the new
/// boot's keyboards (<see cref="VncKeyboardRouter"/>) and tablet.
/// </summary>
/// <remarks>
/// <para>
/// Display work never runs on a vCPU thread: refreshes run on the server's timer (<see cref="VncServer.StartRefreshing"/>),
/// each connection is served by <see cref="ServeAsync"/> on the caller's task, and what a vCPU thread does for the
/// display is only the std-vga's register logic and (on a BAR move) re-registering the memory slot.
/// </para>
/// <para>
/// The server looks at the screen only while a client is connected, and backs off to one look in 3 s while the screen
/// is still: with nobody watching, no timer is armed and the dirty log is not read, so an idle VM's display costs
/// nothing. The dirty log keeps what the guest drew meanwhile, and a new client gets the whole screen anyway.
/// </para>
/// <para>
/// Order at the end: <see cref="Dispose"/> disposes the server (after which it never reads the screen again, a refresh
/// in progress included) and only then unmaps the video memory. A machine's slot stops being read when the machine
/// closes its display, before its VM descriptor is closed.
/// </para>
/// </remarks>
public sealed class VncDisplay : IDisposable
{
    private readonly VideoMemory _memory;
    private readonly CurrentScreen _screen;
    private readonly CurrentKeyboard _keyboard = new();
    private readonly CurrentPointer _pointer = new();
    private int _disposed;

    /// <param name="videoMemoryBytes">The std-vga's video memory (<see cref="MachineConfig.VideoMemoryBytes"/>).</param>
    /// <param name="options">Desktop name, password and limits of the VNC server.</param>
    public VncDisplay(int videoMemoryBytes, VncServerOptions options)
    {
        _memory = VideoMemory.Allocate(videoMemoryBytes);
        _screen = new CurrentScreen(_memory);
        Server = new VncServer(_screen, options, _keyboard, _pointer);
        Server.StartRefreshing();
    }

    /// <summary>The memory every boot's std-vga draws into (pass it to <see cref="MachineInstance.Create"/>).</summary>
    public VideoMemory VideoMemory => _memory;

    public VncServer Server { get; }

    /// <summary>Shows <paramref name="machine"/>'s display, and types and points into its input devices from now on.</summary>
    public void Attach(MachineInstance machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        _screen.Current = machine.Display;
        _keyboard.Current = new VncKeyboardRouter(machine.Keyboard, machine.VirtioKeyboard);
        _pointer.Current = machine.Tablet is { } tablet ? new VirtioVncTablet(tablet) : null;
    }

    /// <summary>Stops using the machine (call before disposing it): the screen shows nothing until the next attach.</summary>
    public void Detach()
    {
        _screen.Current = null;
        _keyboard.Current = null;
        _pointer.Current = null;
    }

    /// <summary>
    /// Serves one VNC client on <paramref name="stream"/> until it leaves; never throws; closes the stream. With
    /// <paramref name="requirePassword"/> the client must give the server's password, if it has one.
    /// </summary>
    public Task ServeAsync(Stream stream, bool requirePassword, CancellationToken cancellationToken) =>
        Server.ServeAsync(stream, requirePassword, cancellationToken);

    /// <summary>The VNC server's counters for query-stats: clients, bytes, frames, and where this boot's keys went.</summary>
    public DeviceStats Stats() => new("vnc", "vnc-server", new Dictionary<string, long>
    {
        ["keys_to_ps2"] = _keyboard.Current?.KeysToPs2 ?? 0,
        ["keys_to_virtio"] = _keyboard.Current?.KeysToVirtio ?? 0,
        ["keys_queued"] = Server.KeysQueued,
        ["keys_refused"] = Server.KeysRefused,
        ["clients"] = Server.ClientCount,
        ["connections"] = Server.Connections,
        ["bytes_sent"] = Server.BytesSent,
        ["updates"] = Server.UpdatesSent,
        ["rectangles"] = Server.RectanglesSent,
        ["protocol_errors"] = Server.ProtocolErrors,
        ["authentication_failures"] = Server.AuthenticationFailures,
        ["refused_clients"] = Server.RefusedClients,
        ["internal_errors"] = Server.InternalErrors,
        ["last_refresh_pixels_compared"] = Server.LastRefreshPixelsCompared,
        ["refresh_errors"] = Server.RefreshErrors,
        ["refresh_interval_ms"] = (long)(Server.RefreshInterval?.TotalMilliseconds ?? 0),
    }) { LastError = Server.LastRefreshError };

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Server.Dispose();
        Detach();
        ((IDisposable)_memory).Dispose();
    }

    /// <summary>The attached machine's std-vga as the server's source; a blank, disabled screen between boots.</summary>
    /// <remarks>
    /// Each refresh works on the display it found in <see cref="BeginRefresh"/>, so an attach or detach on another
    /// thread in the middle of a refresh cannot mix two machines' pictures.
    /// </remarks>
    private sealed class CurrentScreen(VideoMemory memory) : IFramebufferSource
    {
        private readonly StdVgaScanout _scanout = new();
        private MachineDisplay? _current;
        private MachineDisplay? _refreshing;
        private int _attachments;

        public MachineDisplay? Current
        {
            get => Volatile.Read(ref _current);
            set
            {
                Volatile.Write(ref _current, value);
                Interlocked.Increment(ref _attachments);
            }
        }

        public void BeginRefresh()
        {
            _refreshing = Current;
            if (_refreshing is { } display)
            {
                _scanout.Begin(display.Vga, display.ShowsLegacyModes);
            }
        }

        public DisplayMode Mode => _refreshing is null ? DisplayMode.PowerOn : _scanout.Mode;

        public ReadOnlySpan<byte> VideoMemory => _refreshing is { } display ? _scanout.Memory(display.Vga) : memory.GetSpan();

        // Each boot's std-vga counts its palette versions from the start: mix in the attachment so a new boot's
        // palette is never mistaken for the one already converted.
        public int PaletteVersion => unchecked((Volatile.Read(ref _attachments) * 16_777_619) ^ (_refreshing?.Vga.PaletteVersion ?? 0));

        public void CopyPalette(Span<uint> destination)
        {
            if (_refreshing is { } display)
            {
                display.Vga.CopyPalette(destination);
            }
            else
            {
                destination.Clear();
            }
        }

        public bool CollectDirtyPages(Span<ulong> dirtyPages) =>
            _refreshing is { } display && _scanout.CollectDirtyPages(dirtyPages, display.TryReadDirtyLog);
    }

    /// <summary>
    /// The attached machine's keyboards; keys offered between boots are dropped. A new boot's keyboards call the server
    /// back when they have room, and the server is told at once so that keys held for the old boot go to the new one.
    /// </summary>
    private sealed class CurrentKeyboard : IVncKeyboard
    {
        private VncKeyboardRouter? _current;
        private Action? _roomAvailable;

        public VncKeyboardRouter? Current
        {
            get => Volatile.Read(ref _current);
            set
            {
                if (value is not null)
                {
                    value.RoomAvailable = RoomAvailable;
                }

                Volatile.Write(ref _current, value);
                RoomAvailable?.Invoke();
            }
        }

        public Action? RoomAvailable
        {
            get => Volatile.Read(ref _roomAvailable);
            set
            {
                Volatile.Write(ref _roomAvailable, value);
                if (Current is { } current)
                {
                    current.RoomAvailable = value;
                }
            }
        }

        public byte Leds => Current?.Leds ?? 0;

        public bool TryKeyEvent(int xtScancode, bool down) => Current?.TryKeyEvent(xtScancode, down) ?? true;
    }

    /// <summary>The attached machine's tablet; pointer events between boots, or without a tablet, are dropped.</summary>
    private sealed class CurrentPointer : IVncPointer
    {
        private VirtioVncTablet? _current;

        public VirtioVncTablet? Current
        {
            get => Volatile.Read(ref _current);
            set => Volatile.Write(ref _current, value);
        }

        public void PointerEvent(int x, int y, int buttons, int screenWidth, int screenHeight) =>
            Current?.PointerEvent(x, y, buttons, screenWidth, screenHeight);
    }
}
