using System.Text;
using Platform.Engine.Control;
using Platform.Engine.Display;
using Platform.Engine.Host;
using Platform.Engine.Machine;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>
/// A test guest run in-process the way platform-vmm runs it with --runtime-dir: a <see cref="VmmHost"/> with its
/// control.sock and serial.sock in a temporary folder, and the console collected for assertions.
/// </summary>
public sealed class ControlledVm : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Lock _lock = new();
    private readonly Task _collector;

    private ControlledVm(MachineConfig config)
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pvm-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        Console = new SerialConsoleStream();
        Host = new VmmHost(config, Console);
        Control = ControlServer.Start(ControlSocket, Host);
        Serial = SerialServer.Start(SerialSocket, Console, Host);
        if (Host.Display is { } display)
        {
            Vnc = VncListener.ListenUnix(VncSocket, display);
        }

        _collector = CollectAsync(Console.OpenReader(replayScrollback: true));
        Run = Task.Run(Host.RunAsync);
    }

    public string Directory { get; }

    public string ControlSocket => System.IO.Path.Combine(Directory, ControlProtocol.ControlSocketName);

    public string SerialSocket => System.IO.Path.Combine(Directory, ControlProtocol.SerialSocketName);

    public string VncSocket => System.IO.Path.Combine(Directory, ControlProtocol.VncSocketName);

    /// <summary>vnc.sock, as platform-vmm serves it; null without a display.</summary>
    public VncListener? Vnc { get; }

    public SerialConsoleStream Console { get; }

    public VmmHost Host { get; }

    public ControlServer Control { get; }

    public SerialServer Serial { get; }

    /// <summary>Completes with the exit code platform-vmm would return.</summary>
    public Task<VmmExitCode> Run { get; }

    public string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    public static ControlledVm Start(string guest, string commandLine = "", RebootPolicy onReboot = RebootPolicy.Exit, int cpus = 1,
        Func<MachineConfig, MachineConfig>? configure = null)
    {
        var config = new MachineConfig
        {
            KernelPath = TestGuests.Path(guest),
            CommandLine = commandLine,
            MemoryBytes = 64ul << 20,
            CpuCount = cpus,
            OnReboot = onReboot,
        };
        return new(configure is null ? config : configure(config));
    }

    public async Task<string> WaitForOutputAsync(string marker, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            string text = Output;
            if (text.Contains(marker, StringComparison.Ordinal))
            {
                return text;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"The guest did not print \"{marker}\" within {timeout.TotalSeconds} s. It printed:\n{Output}");
    }

    private async Task CollectAsync(SerialConsoleReader reader)
    {
        byte[] buffer = new byte[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (_lock)
            {
                _output.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Host.Quit();
        await Run.WaitAsync(TimeSpan.FromSeconds(10));
        Console.Complete();
        await _collector;
        await Serial.DisposeAsync();
        await Control.DisposeAsync();
        if (Vnc is not null)
        {
            await Vnc.DisposeAsync();
        }

        Host.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
