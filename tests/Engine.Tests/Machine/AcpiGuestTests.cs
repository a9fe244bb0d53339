using System.Collections.Concurrent;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Control;
using Platform.Engine.Host;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// ACPI under Debian's SeaBIOS: our tables, installed by SeaBIOS through fw_cfg's linker/loader, read by a boot-sector
// guest that walks them as an OS would, turns ACPI on, times the PM timer, takes the power button and powers off by S5.
// tests/guests/qemu-check.sh runs the same guests under QEMU -M pc.
public sealed class AcpiGuestTests
{
    private static readonly TimeSpan BiosTimeout = TimeSpan.FromSeconds(90);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static MachineConfig Bios(string image, int cpus = 1) => new()
    {
        Firmware = FirmwareKind.Bios,
        CpuCount = cpus,
        MemoryBytes = 128ul << 20,
        Display = DisplayKind.None,
        Disks = [new DiskOptions(TestGuests.BootImage(image), ReadOnly: true)],
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task SeaBIOS_installs_our_tables_and_the_guest_finds_them_turns_ACPI_on_and_powers_off_through_S5(int cpus)
    {
        var serial = new SerialCapture();
        var log = new SerialCapture();
        using var machine = MachineInstance.Create(Bios("acpi", cpus), serial, firmwareLog: log);
        machine.Start();

        var exit = await machine.Exited.WaitAsync(BiosTimeout, Token);

        string output = serial.Text;
        output.Should().Contain("PLATFORM-TEST acpi PASS", $"the guest printed:\n{output}")
            .And.MatchRegex(@"acpi: RSDP at 0x000f[0-9a-f]{4} revision 2 oem PLATFM", "SeaBIOS put the RSDP in the F segment")
            .And.Contain("acpi: RSDT at 0x07f").And.Contain(" entries 3", "the FADT, the MADT and, as on QEMU's pc machine, the HPET table")
            .And.Contain("acpi: table FACP at ").And.Contain(" length 244")
            .And.Contain("acpi: table APIC at ").And.Contain("acpi: table HPET at ").And.Contain("acpi: table DSDT at ")
            .And.Contain("acpi: FADT SCI 9 SMI_CMD 0x000000b2 ACPI_ENABLE 0xf1 PM1a_EVT 0x00000600 PM1a_CNT 0x00000604 PM_TMR 0x00000608",
                "the FADT names the PM block where SeaBIOS put PMBASE")
            .And.Contain("acpi: \\_S5 SLP_TYPa 0")
            .And.Contain($"acpi: MADT local APICs {cpus} vCPUs in CMOS {cpus}")
            .And.Contain("acpi: ACPI_ENABLE through SMI_CMD set SCI_EN")
            .And.Contain("acpi: PM timer advanced ")
            .And.NotContain("still running after S5");
        exit.Reason.Should().Be(MachineExitReason.PowerOff, "the guest wrote SLP_TYP 0 | SLP_EN: S5");
        exit.Detail.Should().Contain("ACPI S5");
        log.Text.Should().Contain("PS2 keyboard initialized", "SeaBIOS parsed our DSDT and found the keyboard (PNP0303) in it")
            .And.Contain("PCI: init bdf=00:01.3 id=8086:7113")
            .And.NotContain("WARNING", "every loader command named an allocated file and fitted it");
        var acpi = machine.GetDeviceStats().Single(d => d.Name == "acpi").Counters;
        acpi["pm_base"].Should().Be(0x600);
        acpi["acpi_enabled"].Should().Be(1);
        acpi["bad_accesses"].Should().Be(0);
    }

    [Fact]
    public async Task The_power_button_is_refused_before_the_guest_enables_ACPI_and_then_seen_as_status_and_an_SCI_on_IRQ_9()
    {
        var serial = new SerialCapture();
        using var machine = MachineInstance.Create(Bios("acpibtn"), serial);
        machine.PressPowerButton().Should().BeFalse("SCI_EN is clear at reset: nobody would handle the SCI");
        machine.Start();

        await serial.WaitForAsync("acpi: waiting for the power button", BiosTimeout);
        machine.PressPowerButton().Should().BeTrue();
        var exit = await machine.Exited.WaitAsync(BiosTimeout, Token);

        string output = serial.Text;
        output.Should().Contain("PLATFORM-TEST acpibtn PASS", $"the guest printed:\n{output}")
            .And.Contain("acpi: PWRBTN_STS set").And.Contain("acpi: SCI pending on IRQ 9").And.Contain("acpi: PWRBTN_STS cleared");
        exit.Reason.Should().Be(MachineExitReason.PowerOff);
        machine.GetDeviceStats().Single(d => d.Name == "acpi").Counters["power_button_presses"].Should().Be(1);
    }

    [Fact]
    public async Task System_powerdown_presses_the_ACPI_power_button_once_the_guest_has_ACPI_on_and_the_VMM_ends_as_a_guest_shutdown()
    {
        // ControlledVm starts a test guest by name; the configuration replaces it with the firmware machine.
        await using var vm = ControlledVm.Start("hello", configure: c => Bios("acpibtn") with { OnReboot = RebootPolicy.Exit });
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        var events = new ConcurrentQueue<VmmControlEvent>();
        client.EventReceived += events.Enqueue;
        await vm.WaitForOutputAsync("acpi: waiting for the power button", BiosTimeout);

        await client.PowerdownAsync(Token);

        (await vm.Run.WaitAsync(BiosTimeout, Token)).Should().Be(VmmExitCode.PowerOff);
        vm.Output.Should().Contain("acpi: SCI pending on IRQ 9").And.Contain("PLATFORM-TEST acpibtn PASS");
        await WaitUntilAsync(() => events.Any(e => e.Name == ControlProtocol.Events.Shutdown));
        events.Single(e => e.Name == ControlProtocol.Events.Powerdown).Reason.Should().Be(PowerdownMethods.AcpiPowerButton);
        events.Single(e => e.Name == ControlProtocol.Events.Shutdown).Reason.Should().Be(ControlProtocol.ShutdownReasons.GuestShutdown);
    }

    [Fact]
    public async Task System_powerdown_falls_back_to_ctrl_alt_del_while_the_guest_has_not_enabled_ACPI()
    {
        // Asked while SeaBIOS is still starting: nothing has set SCI_EN, so an SCI would go unheard.
        await using var vm = ControlledVm.Start("hello", configure: c => Bios("acpibtn") with { OnReboot = RebootPolicy.Exit });
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        var events = new ConcurrentQueue<VmmControlEvent>();
        client.EventReceived += events.Enqueue;
        await vm.WaitForOutputAsync("SeaBIOS (version", BiosTimeout);

        await client.PowerdownAsync(Token);

        await WaitUntilAsync(() => events.Any(e => e.Name == ControlProtocol.Events.Powerdown));
        events.First(e => e.Name == ControlProtocol.Events.Powerdown).Reason.Should().Be(PowerdownMethods.CtrlAltDel);
        var acpi = (await client.QueryStatsAsync(Token)).Devices.Single(d => d.Name == "acpi").Counters;
        acpi["power_button_presses"].Should().Be(0);
        acpi["acpi_enabled"].Should().Be(0);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        condition().Should().BeTrue();
    }
}
