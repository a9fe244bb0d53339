using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// PCI INTx through the PIIX3's PIRQ routes under Debian's SeaBIOS: the intx boot-sector guest takes the AHCI port's
// interrupt through the 8259 on the IRQ SeaBIOS wrote into the function's interrupt line, re-routes it while asserted,
// and watches it drop; QEMU -M pc runs the same guest as the reference, and every "intx:" line must match.
public sealed class PciIntxGuestTests
{
    private static readonly TimeSpan BiosTimeout = TimeSpan.FromSeconds(90);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_AHCI_ports_interrupt_reaches_the_8259_on_the_IRQ_SeaBIOS_routed_and_follows_a_reroute_as_under_QEMU()
    {
        string image = TestGuests.BootImage("intx");
        var qemuRun = QemuPc.BootSataDiskAsync(image, memoryMiB: 128, BiosTimeout);
        var serial = new SerialCapture();
        using var machine = MachineInstance.Create(new MachineConfig
        {
            Firmware = FirmwareKind.Bios,
            MemoryBytes = 128ul << 20,
            Display = DisplayKind.None,
            Disks = [new DiskOptions(image, ReadOnly: true, Bus: DiskInterface.Sata)],
        }, serial);
        machine.Start();

        var exit = await machine.Exited.WaitAsync(BiosTimeout, Token);
        var qemu = await qemuRun;

        string output = serial.Text;
        output.Should().Contain("PLATFORM-TEST intx PASS", $"the guest printed:\n{output}")
            .And.Contain("intx: PIRQB route register 0x61 = 0x0a", "SeaBIOS routes PIRQB, the AHCI in slot 2's INTA, to IRQ 10")
            .And.Contain("intx: 8259 IRR shows IRQ 10")
            .And.Contain("intx: rerouted to IRQ 5 while asserted: IRR 5 set, IRQ 10 dropped; routed back")
            .And.Contain("intx: IRQ 10 arrived on vector 0x2a")
            .And.Contain("intx: the IRQ left the IRR when the port's status was cleared");
        exit.Reason.Should().Be(MachineExitReason.Reset, "the guest pulses the reset line after its verdict");
        qemu.Stdout.Should().Contain("PLATFORM-TEST intx PASS", qemu.Stdout);
        Lines(output).Should().Equal(Lines(qemu.Stdout), "the same chipset answers the same way");
    }

    private static string[] Lines(string output) =>
        [.. output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("intx: ", StringComparison.Ordinal))];
}
