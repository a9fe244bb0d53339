namespace Platform.Engine.Vnc;

/// <summary>How a <see cref="VncServer"/> greets and limits its clients.</summary>
public sealed class VncServerOptions
{
    /// <summary>The desktop name clients show in their title bar (ServerInit).</summary>
    public string DesktopName { get; init; } = "Platform VM";

    /// <summary>
    /// The VNC password (only its first 8 characters count, as in every VNC server); null offers security type None.
    /// Whoever opens a listener decides when None is acceptable (QEMU's rule: Unix sockets and loopback only).
    /// </summary>
    public string? Password { get; init; }

    /// <summary>Clients served at once; more are refused during the handshake with a reason.</summary>
    public int MaxClients { get; init; } = 16;

    /// <summary>The longest ClientCutText accepted; a longer one closes that client (QEMU allows 1 MiB too).</summary>
    public int MaxClientCutText { get; init; } = 1024 * 1024;

    /// <summary>Time a client has to finish the handshake before it is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Look for vertical scrolls and send them as CopyRect to clients that support it.</summary>
    public bool DetectScrolling { get; init; } = true;

    /// <summary>
    /// Key events held per client while the guest's keyboard is full: a paste of this many waits its turn instead of
    /// being lost; past it, keys are refused and counted (<see cref="VncServer.KeysRefused"/>).
    /// </summary>
    public int MaxQueuedKeys { get; init; } = 64 * 1024;

    /// <summary>
    /// How often the screen is compared while it changes: 60 times a second, so a viewer can follow a guest that
    /// redraws at 60 Hz (QEMU's base is 30 ms). Used once <see cref="VncServer.StartRefreshing"/> is called.
    /// </summary>
    public TimeSpan MinRefreshInterval { get; init; } = TimeSpan.FromMilliseconds(16);

    /// <summary>The longest wait between two looks at a screen that stopped changing (QEMU's 3 s).</summary>
    public TimeSpan MaxRefreshInterval { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Where the server's metrics go: the process's <see cref="VncCounters.Shared"/> unless a test gives it its own.</summary>
    public VncCounters Counters { get; init; } = VncCounters.Shared;
}
