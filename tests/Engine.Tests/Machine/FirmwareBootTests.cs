using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// Debian's SeaBIOS on our machine: started at the reset vector, logging to port 0x402 as under QEMU.
public sealed class FirmwareBootTests
{
    private static readonly TimeSpan BiosTimeout = TimeSpan.FromSeconds(60);

    private static MachineConfig Bios(params DiskOptions[] disks) => new()
    {
        Firmware = FirmwareKind.Bios,
        MemoryBytes = 128ul << 20,
        Display = DisplayKind.None,
        Disks = disks,
    };

    [Fact]
    public async Task SeaBIOS_runs_from_the_reset_vector_and_logs_to_port_0x402()
    {
        var serial = new SerialCapture();
        var log = new SerialCapture();
        using var machine = MachineInstance.Create(Bios(), serial, firmwareLog: log);
        machine.Start();

        string text = await log.WaitForAsync("SeaBIOS (version", BiosTimeout);

        text.Should().Contain("BUILD: gcc");
        machine.FirmwareDebugPort!.BytesWritten.Should().BePositive();
    }
}
