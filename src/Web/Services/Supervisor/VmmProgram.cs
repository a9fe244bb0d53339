namespace Platform.Web.Services.Supervisor;

/// <summary>
/// The platform-vmm the supervisor launches now, looked up again at each start (a publish may appear or go stale while
/// the dashboard runs) and logged whenever the choice changes, with the reason: the Host page shows the same.
/// </summary>
public sealed partial class VmmProgram(SupervisorOptions options, ILogger<VmmProgram> logger)
{
    private readonly Lock _lock = new();
    private VmmBinary? _last;

    public VmmBinary Current
    {
        get
        {
            var binary = VmmLocator.Locate(options.VmmPath);
            lock (_lock)
            {
                if (binary == _last)
                {
                    return binary;
                }

                _last = binary;
            }

            if (binary.Path is null)
            {
                Log.NotFound(logger, binary.Reason);
            }
            else if (binary.Kind == VmmBuildKind.Jit)
            {
                Log.ChoseJit(logger, binary.Path, binary.Reason);
            }
            else
            {
                Log.Chose(logger, binary.KindName, binary.Path, binary.Reason);
            }

            return binary;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "VMs run {Kind} platform-vmm {Path}: {Reason}")]
        public static partial void Chose(ILogger logger, string kind, string path, string reason);

        [LoggerMessage(LogLevel.Warning, "VMs run the JIT build of platform-vmm {Path}: {Reason}")]
        public static partial void ChoseJit(ILogger logger, string path, string reason);

        [LoggerMessage(LogLevel.Error, "No platform-vmm to run VMs with: {Reason}")]
        public static partial void NotFound(ILogger logger, string reason);
    }
}
