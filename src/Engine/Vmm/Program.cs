using System.Runtime.InteropServices;
using Platform.Engine.Boot;
using Platform.Engine.Control;
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

RuntimeDirectory? runtime = null;
ControlServer? control = null;
SerialServer? serialServer = null;
var console = new SerialConsoleStream();
try
{
    using var host = new VmmHost(options.Machine!, console);
    host.Prepare(); // a bad kernel or missing KVM feature fails here, before the sockets say we are up
    if (options.RuntimeDir is not null)
    {
        runtime = RuntimeDirectory.Create(options.RuntimeDir);
        control = ControlServer.Start(runtime.ControlSocket, host);
        serialServer = SerialServer.Start(runtime.SerialSocket, console, input => host.SendSerialInput(input.Span));
        runtime.PublishPid();
    }

    var stdoutPump = Task.CompletedTask;
    if (options.Serial == "stdio")
    {
        stdoutPump = SerialStdio.Start(host, console);
    }

    // Ctrl-C and SIGTERM (what a supervisor sends) end the VM cleanly: events go out, sockets are removed.
    using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Quit);
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Quit);
    var exitCode = await host.RunAsync();

    console.Complete();
    await stdoutPump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    return (int)exitCode;

    void Quit(PosixSignalContext context)
    {
        context.Cancel = true;
        host.Quit();
    }
}
catch (Exception ex) when (ex is BootException or KvmException or ArgumentException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"platform-vmm: {ex.Message}");
    return (int)VmmExitCode.StartFailure;
}
finally
{
    console.Complete();
    if (serialServer is not null)
    {
        await serialServer.DisposeAsync();
    }

    if (control is not null)
    {
        await control.DisposeAsync();
    }

    runtime?.Dispose();
}
