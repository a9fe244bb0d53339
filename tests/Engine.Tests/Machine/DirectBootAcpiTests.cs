using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// ACPI on a direct kernel boot: the VMM writes the tables a BIOS boot gets straight into guest memory and maps the PM
// block at 0x600 itself. The acpidirect guest finds them as Linux does (a scan of 0xE0000-0xFFFFF), walks and checks them,
// turns ACPI on and powers off through S5; under QEMU -M pc (SeaBIOS and QEMU's own tables) it does the same.
public sealed class DirectBootAcpiTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task The_guest_finds_our_tables_by_scanning_checks_them_and_powers_off_through_S5(int cpus)
    {
        var serial = new SerialCapture();
        using var machine = MachineInstance.Create(new MachineConfig
        {
            KernelPath = TestGuests.Path("acpidirect"),
            MemoryBytes = 64ul << 20,
            CpuCount = cpus,
        }, serial);
        machine.Start();

        var exit = await machine.Exited.WaitAsync(Timeout, Token);

        string output = serial.Text;
        output.Should().Contain("PLATFORM-TEST acpidirect PASS", $"the guest printed:\n{output}")
            .And.Contain($"acpi: RSDP at 0x{MemoryLayout.AcpiRsdp:x8} revision 2 oem PLATFM")
            .And.Contain($"acpi: hvm_start_info names the RSDP at 0x{MemoryLayout.AcpiRsdp:x8}, the one the scan found")
            .And.Contain("acpi: XSDT at 0x000e").And.Contain(" entries 2")
            .And.Contain("acpi: table FACP at 0x000e").And.Contain("acpi: table APIC at 0x000e").And.Contain("acpi: table DSDT at 0x000e")
            .And.Contain("SCI 9 SMI_CMD 0x000000b2 ACPI_ENABLE 0xf1 PM1a_EVT 0x00000600 PM1a_CNT 0x00000604 PM_TMR 0x00000608")
            .And.Contain("acpi: \\_S5 SLP_TYPa 0")
            .And.Contain("acpi: DSDT has the PCI root PNP0A03")
            .And.Contain($"local APICs {cpus} IOAPICs 1 at 0xfec00000")
            .And.Contain("acpi: ACPI_ENABLE through SMI_CMD set SCI_EN")
            .And.Contain("acpi: PM timer advanced ")
            .And.NotContain("still running after S5");
        exit.Reason.Should().Be(MachineExitReason.PowerOff, "the guest wrote SLP_TYP 0 | SLP_EN: S5");
        exit.Detail.Should().Contain("ACPI S5");
        var acpi = machine.GetDeviceStats().Single(d => d.Name == "acpi").Counters;
        acpi["pm_base"].Should().Be(0x600, "the machine programmed PMBASE itself, as SeaBIOS would");
        acpi["acpi_enabled"].Should().Be(1);
        acpi["bad_accesses"].Should().Be(0);
    }

    [Fact]
    public async Task The_VMM_ends_with_exit_code_0_when_a_directly_booted_guest_enters_S5()
    {
        var run = await VmmProcess.RunAsync(Timeout, "--kernel", TestGuests.Path("acpidirect"), "--memory", "64M", "--display", "none");

        run.Stdout.Should().Contain("PLATFORM-TEST acpidirect PASS", run.Stdout + run.Stderr);
        run.ExitCode.Should().Be(0, "S5 is a guest power-off:\n" + run.Stderr);
    }

    [Fact]
    public async Task Under_QEMU_pc_the_same_guest_finds_QEMUs_tables_and_powers_off()
    {
        // The reference: SeaBIOS installs QEMU's tables, and the guest reads them with the same code.
        var qemu = await QemuPc.RunGuestAsync(TestGuests.Path("acpidirect"), "", memoryMiB: 64, cpus: 2, Timeout);

        qemu.Stdout.Should().Contain("PLATFORM-TEST acpidirect PASS", qemu.Stdout + qemu.Stderr)
            .And.Contain("PM1a_CNT 0x00000604").And.Contain("acpi: \\_S5 SLP_TYPa 0").And.Contain("local APICs 2 IOAPICs 1 at 0xfec00000");
        qemu.ExitCode.Should().Be(0, "QEMU ends on S5");
    }
}
