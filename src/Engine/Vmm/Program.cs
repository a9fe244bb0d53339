using System.Net.Sockets;
using System.Runtime.InteropServices;
using Platform.Engine.Boot;
using Platform.Engine.Control;
using Platform.Engine.Display;
using Platform.Engine.Host;
using Platform.Engine.Jail;
using Platform.Engine.Kvm;
using Platform.Engine.Machine;
using Platform.Engine.Vmm;
using Platform.Engine.Vnc;

// platform-vmm: one process per VM. Exit codes are listed in CommandLine.Usage and docs/control-protocol.md.
StartupTrace.Mark(VmmJail.IsJailedChild ? "jailed vmm: main" : "main");
if (!VmmJail.IsJailedChild && JailKeeper.Wanted(args, VmmJail.StartedAsRoot))
{
    // The keeper: new namespaces, this program again inside them, then it waits (JailKeeper). The configuration is
    // the jailed VMM's to read, so it is read once; the keeper reads it only after, for the folder to clean up.
    try
    {
        return JailKeeper.Run(args, () => TryParse(args)?.Config.RuntimeDir, Console.Error);
    }
    catch (JailException ex)
    {
        Console.Error.WriteLine($"platform-vmm: {ex.Message}");
        return (int)VmmExitCode.StartFailure;
    }
}

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
    int checkResult = KvmCheck.Report(Console.Out);
    checkResult |= DiskCheck.Report(Console.Out, options.CheckDisks);
    if (options.Machine is { Boot: BootSource.Disk } diskBoot)
    {
        checkResult |= DiskBootCheck.Report(diskBoot, Console.Out);
    }

    return checkResult;
}

var jail = options.JailDefault(root: VmmJail.StartedAsRoot);
if (options.NoJail)
{
    Console.Error.WriteLine("platform-vmm: WARNING: --no-jail: this VMM is NOT confined. It runs with every right of the user " +
        "that started it (root: all of them), so a guest that breaks a device model owns the host. For development only.");
}

try
{
    if (jail is not null && !VmmJail.IsJailedChild)
    {
        // Asked for by what only the parse sees (the command line scan above said no): the keeper all the same.
        return JailKeeper.Run(args, () => options.Config.RuntimeDir, Console.Error);
    }

    if (VmmJail.IsJailedChild)
    {
        if (jail is null)
        {
            throw new JailException("The keeper started this VMM to be jailed, but its options say no jail; it does not run unjailed as root.");
        }

        VmmJail.ReadHostPid();
    }
}
catch (JailException ex)
{
    Console.Error.WriteLine($"platform-vmm: {ex.Message}");
    return (int)VmmExitCode.StartFailure;
}

RuntimeDirectory? runtime = null;
ControlServer? control = null;
SerialServer? serialServer = null;
VmmHost? host = null;
var vncListeners = new List<VncListener>();
var console = new SerialConsoleStream();
try
{
    var vmm = new VmmHost(options.Machine!, console, new VncServerOptions { Password = options.Vnc?.Password }) { Log = Console.Error };
    host = vmm;
    vmm.Prepare(); // a bad kernel or missing KVM feature fails here, before the sockets say we are up
    StartupTrace.Mark("first boot built");
    if (options.Config.RuntimeDir is not null)
    {
        runtime = RuntimeDirectory.Create(options.Config.RuntimeDir);
        control = ControlServer.Start(runtime.ControlSocket, vmm);
        serialServer = SerialServer.Start(runtime.SerialSocket, console, vmm);
        if (vmm.Display is { } display)
        {
            vncListeners.Add(VncListener.ListenUnix(runtime.VncSocket, display));
        }
    }

    if (options.Vnc is { } vnc)
    {
        vncListeners.Add(ListenTcp(vnc, vmm.Display!));
    }

    if (jail is not null)
    {
        // Everything the first boot needs is open and the sockets are bound: from here on, the jail.
        if (options.Vnc?.Password is not null)
        {
            WarmVncAuthentication();
        }

        StartupTrace.Mark("sockets bound");
        VmmJail.Enter(jail, options.Machine!, options.Config.RuntimeDir, Console.Error);
        StartupTrace.Mark("jail entered");
        JailSelfTest.RunIfAsked(Console.Error);
    }

    runtime?.PublishPid();
    StartupTrace.Mark("pid published");

    // Ctrl-C and SIGTERM (what a supervisor sends) end the VM cleanly: events go out, sockets are removed.
    using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Quit);
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Quit);
    // RunAsync returns at its first wait, with the first boot's vCPUs running; the stdio threads start after them, off
    // the start-up's path (the pump replays the scroll-back, so the guest's first lines reach stdout all the same).
    var run = vmm.RunAsync();
    var stdoutPump = Task.CompletedTask;
    if (options.Config.Serial == SerialMode.Stdio)
    {
        stdoutPump = SerialStdio.Start(vmm, console);
    }

    var exitCode = await run;

    console.Complete();
    await stdoutPump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    return (int)exitCode;

    void Quit(PosixSignalContext context)
    {
        context.Cancel = true;
        vmm.Quit();
    }
}
catch (Exception ex) when (ex is BootException or KvmException or ArgumentException or IOException or UnauthorizedAccessException or JailException)
{
    Console.Error.WriteLine($"platform-vmm: {ex.Message}");
    return (int)VmmExitCode.StartFailure;
}
finally
{
    console.Complete();
    // VNC clients first: the display's video memory goes with the host.
    foreach (var listener in vncListeners)
    {
        await listener.DisposeAsync();
    }

    if (serialServer is not null)
    {
        await serialServer.DisposeAsync();
    }

    if (control is not null)
    {
        await control.DisposeAsync();
    }

    host?.Dispose();
    runtime?.Dispose();
}

static VmmOptions? TryParse(string[] arguments)
{
    try
    {
        return CommandLine.Parse(arguments);
    }
    catch (UsageException)
    {
        return null;
    }
}

// VNC authentication's DES comes from OpenSSL, which .NET loads (with its legacy provider) at the first use: made
// once before the jail, whose root has no /usr/lib to load it from later.
static void WarmVncAuthentication()
{
#pragma warning disable CA5351 // DES is what RFB's VNC authentication defines
    using var des = System.Security.Cryptography.DES.Create();
#pragma warning restore CA5351
    des.Key = [0x13, 0x34, 0x57, 0x79, 0x9B, 0xBC, 0xDF, 0xF1]; // any key DES does not call weak
    _ = des.EncryptEcb(new byte[16], System.Security.Cryptography.PaddingMode.None);
}

static VncListener ListenTcp(VncListenOptions vnc, VncDisplay display)
{
    try
    {
        return VncListener.ListenTcp(vnc.EndPoint, display);
    }
    catch (SocketException ex)
    {
        throw new IOException($"Cannot listen for VNC on {vnc.EndPoint}: {ex.Message}", ex);
    }
}
