namespace Platform.Engine.Control;

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

        public static IReadOnlyList<string> All { get; } =
            [QueryVersion, QueryCommands, QueryStatus, QueryStats, Pause, Resume, SystemReset, SystemPowerdown, Quit];
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
    }

    /// <summary>The events a client may receive, named as QMP names them.</summary>
    public static class Events
    {
        public const string Stop = "STOP";
        public const string Resume = "RESUME";
        public const string Reset = "RESET";
        public const string Shutdown = "SHUTDOWN";
        public const string GuestPanicked = "GUEST_PANICKED";
        public const string Powerdown = "POWERDOWN";
    }
}
