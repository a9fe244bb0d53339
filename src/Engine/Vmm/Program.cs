using Platform.Engine.Boot;
using Platform.Engine.Host;
using Platform.Engine.Kvm;
using Platform.Engine.Machine;
using Platform.Engine.Vmm;

// platform-vmm: one process per VM. Exit codes are listed in CommandLine.Usage and docs/control-protocol.md.
VmmOptions options;
try
{
    options = CommandLine.Parse(args);
}
catch (UsageException ex)
{
    Console.Error.WriteLine($"platform-vmm: {ex.Message}");
    Console.Error.WriteLine("Try platform-vmm --help.");
    return (int)VmmExitCode.Usage;
}

if (options.Help)
{
    Console.WriteLine(CommandLine.Usage);
    return 0;
}

if (options.Check)
{
    return KvmCheck.Report(Console.Out);
}

try
{
    using var serialOut = options.Serial == "stdio" ? Console.OpenStandardOutput() : Stream.Null;
    using var host = new VmmHost(options.Machine!, serialOut);
    using var runtime = options.RuntimeDir is null ? null : RuntimeDirectory.Create(options.RuntimeDir);
    if (options.Serial == "stdio")
    {
        SerialStdin.Start(host);
    }

    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        host.Quit();
    };
    return (int)await host.RunAsync();
}
catch (Exception ex) when (ex is BootException or KvmException or ArgumentException or IOException)
{
    Console.Error.WriteLine($"platform-vmm: {ex.Message}");
    return (int)VmmExitCode.StartFailure;
}
