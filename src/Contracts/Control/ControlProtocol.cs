namespace Platform.Contracts.Control;

/// <summary>Names and limits of the control protocol (docs/control-protocol.md); the server and the client share them.</summary>
public static class ControlProtocol
{
    public const string Name = "platform-vmm-control";

    /// <summary>Bumped when a change would break an existing client; additions keep it.</summary>
    public const int Version = 1;

    /// <summary>A longer line is refused and the connection closed: no legitimate command comes close.</summary>
    public const int MaxLineBytes = 64 * 1024;

    public const string ControlSocketName = "control.sock";
    public const string SerialSocketName = "serial.sock";
    public const string PidFileName = "vmm.pid";

    /// <summary>RFB 3.8 for the VM's display (served once the VM has a display device).</summary>
    public const string VncSocketName = "vnc.sock";

    /// <summary>The commands, as listed in the greeting.</summary>
    public static class Commands
    {
        public const string QueryVersion = "query-version";
        public const string QueryCommands = "query-commands";
        public const string QueryStatus = "query-status";
        public const string QueryStats = "query-stats";
        public const string Pause = "pause";
        public const string Resume = "resume";
        public const string SystemReset = "system_reset";
        public const string SystemPowerdown = "system_powerdown";
        public const string Quit = "quit";

        /// <summary>Grows a disk while the VM runs: <c>{"device":"disk0","size":BYTES}</c>, as QMP's block_resize.</summary>
        public const string BlockResize = "block_resize";

        /// <summary>Takes the disc out of a CD-ROM drive: <c>{"device":"cdrom0","force":false}</c>, as QMP's eject.</summary>
        public const string Eject = "eject";

        /// <summary>Puts an ISO image in a CD-ROM drive: <c>{"device":"cdrom0","filename":PATH}</c>, as QMP's.</summary>
        public const string ChangeMedium = "blockdev-change-medium";

        /// <summary>
        /// Plugs a NIC's cable in or pulls it out: <c>{"name":"net0","up":false}</c>, as QMP's set_link. The guest sees
        /// the link status change; a link that comes back asks it to announce itself. Kept across reboots.
        /// </summary>
        public const string SetLink = "set_link";

        /// <summary>
        /// Changes a disk's I/O limits while the VM runs: <c>{"device":"disk0","bps":BYTES_A_SECOND,"iops":REQUESTS_A_SECOND}</c>
        /// (0: no limit), as QMP's block_set_io_throttle with its <c>bps</c> and <c>iops</c> totals. Kept across reboots.
        /// </summary>
        public const string BlockSetIoThrottle = "block_set_io_throttle";

        public static IReadOnlyList<string> All { get; } =
            [QueryVersion, QueryCommands, QueryStatus, QueryStats, Pause, Resume, SystemReset, SystemPowerdown, Quit, BlockResize, Eject, ChangeMedium, SetLink, BlockSetIoThrottle];

        /// <summary>The commands that take arguments; every other one refuses a non-empty <c>arguments</c>.</summary>
        public static IReadOnlyList<string> WithArguments { get; } = [BlockResize, Eject, ChangeMedium, SetLink, BlockSetIoThrottle];
    }

    /// <summary>The members of <c>set_link</c>'s arguments, QMP's names.</summary>
    public static class SetLinkArguments
    {
        /// <summary>The NIC's name as query-stats gives it: <c>net0</c>, <c>net1</c>…</summary>
        public const string Name = "name";

        /// <summary>True: the cable is in; false: pulled out.</summary>
        public const string Up = "up";
    }

    /// <summary>The members of <c>block_resize</c>'s arguments, QMP's names.</summary>
    public static class BlockResizeArguments
    {
        /// <summary>The disk's name as query-stats gives it: <c>disk0</c>, <c>disk1</c>…</summary>
        public const string Device = "device";

        /// <summary>The new size in bytes: larger than the current one, a multiple of 512.</summary>
        public const string Size = "size";
    }

    /// <summary>The members of <c>block_set_io_throttle</c>'s arguments, QMP's names.</summary>
    public static class IoThrottleArguments
    {
        /// <summary>The disk's name as query-stats gives it: <c>disk0</c>, <c>disk1</c>…</summary>
        public const string Device = "device";

        /// <summary>Bytes a second, reads and writes together; 0 for no limit.</summary>
        public const string Bps = "bps";

        /// <summary>Requests a second, reads and writes together; 0 for no limit.</summary>
        public const string Iops = "iops";
    }

    /// <summary>The members of <c>eject</c>'s and <c>blockdev-change-medium</c>'s arguments.</summary>
    public static class MediumArguments
    {
        /// <summary>The drive's name as query-stats gives it: <c>cdrom0</c>.</summary>
        public const string Device = "device";

        /// <summary>eject: take the disc out even though the guest has locked the tray.</summary>
        public const string Force = "force";

        /// <summary>blockdev-change-medium: the ISO image on the host; with <see cref="Fd"/>, only the name the drive reports.</summary>
        public const string Filename = "filename";

        /// <summary>
        /// blockdev-change-medium: true when the image is the descriptor sent with the command's line (SCM_RIGHTS, in the
        /// same sendmsg), opened read-only by the sender, as QEMU's getfd/add-fd pass files to a confined QEMU: a jailed VMM
        /// cannot open the dashboard's library by name. Left out: false, and the VMM opens <see cref="Filename"/> itself.
        /// </summary>
        public const string Fd = "fd";
    }

    /// <summary>The <c>class</c> of an error reply; a client can branch on it, the <c>desc</c> is for people.</summary>
    public static class ErrorClasses
    {
        /// <summary>The line was not a JSON object.</summary>
        public const string ParseError = "ParseError";
        /// <summary>The object was not a command: no <c>execute</c>, unknown members, bad <c>arguments</c>.</summary>
        public const string InvalidCommand = "InvalidCommand";
        public const string CommandNotFound = "CommandNotFound";
        /// <summary>The command is not possible in the VM's state (e.g. pause while it shuts down).</summary>
        public const string WrongState = "WrongState";
        /// <summary>The command was tried and failed.</summary>
        public const string Failed = "Failed";
        /// <summary>No device by that name (QMP's class too).</summary>
        public const string DeviceNotFound = "DeviceNotFound";
        /// <summary>An argument's value is not one the command takes (a size not a multiple of 512, past the limit).</summary>
        public const string InvalidArgument = "InvalidArgument";
        /// <summary>The new size is smaller than the disk: shrinking would cut off the guest's data.</summary>
        public const string ShrinkRefused = "ShrinkRefused";
        /// <summary>The disk is read-only and cannot change.</summary>
        public const string ReadOnlyDevice = "ReadOnlyDevice";

        /// <summary>eject without force while the guest has locked the drive's tray; the guest was asked to eject.</summary>
        public const string DeviceLocked = "DeviceLocked";
    }

    /// <summary>The events a client may receive, named on the wire as QMP names them.</summary>
    public static class Events
    {
        public const string Stop = "STOP";
        public const string Resume = "RESUME";
        public const string Reset = "RESET";
        public const string Shutdown = "SHUTDOWN";
        public const string GuestPanicked = "GUEST_PANICKED";
        public const string Powerdown = "POWERDOWN";
        public const string NicBackendRestarted = "NIC_BACKEND_RESTARTED";
        public const string NicBackendFailed = "NIC_BACKEND_FAILED";

        /// <summary>The wire name of an event.</summary>
        public static string NameOf(VmmEventKind kind) => kind switch
        {
            VmmEventKind.Stop => Stop,
            VmmEventKind.Resume => Resume,
            VmmEventKind.Reset => Reset,
            VmmEventKind.Shutdown => Shutdown,
            VmmEventKind.GuestPanicked => GuestPanicked,
            VmmEventKind.Powerdown => Powerdown,
            VmmEventKind.NicBackendRestarted => NicBackendRestarted,
            VmmEventKind.NicBackendFailed => NicBackendFailed,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an event"),
        };

        /// <summary>The event a wire name names; null for one this side does not know (a newer VMM's, say).</summary>
        public static VmmEventKind? KindOf(string name) => name switch
        {
            Stop => VmmEventKind.Stop,
            Resume => VmmEventKind.Resume,
            Reset => VmmEventKind.Reset,
            Shutdown => VmmEventKind.Shutdown,
            GuestPanicked => VmmEventKind.GuestPanicked,
            Powerdown => VmmEventKind.Powerdown,
            NicBackendRestarted => VmmEventKind.NicBackendRestarted,
            NicBackendFailed => VmmEventKind.NicBackendFailed,
            _ => null,
        };
    }

    /// <summary>The <c>reason</c> of a SHUTDOWN event: why the VMM is ending.</summary>
    public static class ShutdownReasons
    {
        /// <summary>The guest powered off (or a VMM run without a runtime folder ended with it).</summary>
        public const string GuestShutdown = "guest-shutdown";
        /// <summary>The guest reset and the VM's on-reboot policy is exit.</summary>
        public const string GuestReset = "guest-reset";
        /// <summary>A client sent <c>quit</c>, or the VMM got SIGTERM or SIGINT.</summary>
        public const string HostQuit = "host-qmp-quit";
        /// <summary>A reboot found nothing to boot (a disk boot whose guest removed its kernel).</summary>
        public const string BootFailed = "boot-failed";
    }
}

/// <summary>The asynchronous events of the control protocol; <see cref="ControlProtocol.Events"/> names them on the wire.</summary>
public enum VmmEventKind
{
    /// <summary>The vCPUs were paused.</summary>
    Stop,
    /// <summary>The vCPUs run (after a boot or a pause).</summary>
    Resume,
    /// <summary>The guest reset; the reason says how (i8042, triple fault…).</summary>
    Reset,
    /// <summary>The VMM is ending; the reason is one of <see cref="ControlProtocol.ShutdownReasons"/>.</summary>
    Shutdown,
    /// <summary>The guest died (KVM emulation failure, failed entry); the reason has the detail.</summary>
    GuestPanicked,
    /// <summary>Ctrl-Alt-Del was pressed for <c>system_powerdown</c>.</summary>
    Powerdown,
    /// <summary>A NIC's backend (its passt) ended and a new one took over; the reason names the NIC and why it ended.</summary>
    NicBackendRestarted,
    /// <summary>A NIC's backend ended too often, or could not be started again: the NIC carries nothing from now on.</summary>
    NicBackendFailed,
}

/// <summary>The VM's run state as <c>query-status</c> reports it: <c>starting</c>, <c>running</c>, <c>paused</c>, <c>shutting-down</c>, <c>stopped</c>.</summary>
public enum VmRunState
{
    Starting,
    Running,
    Paused,
    ShuttingDown,
    Stopped,
}
