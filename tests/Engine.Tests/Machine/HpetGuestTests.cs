using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// The hpet test guest (tests/guests/hpet.c) finds the HPET through ACPI, runs its counter against the PIT, takes one-shot,
// periodic and level interrupts in legacy replacement mode (the PIT falling silent), and survives a guest's nonsense;
// QEMU -M pc runs the same guest as the reference, and every "hpet:" line must match.
public sealed class HpetGuestTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_guest_finds_drives_and_is_interrupted_by_the_HPET_as_under_QEMU()
    {
        var qemuRun = QemuPc.RunGuestAsync(TestGuests.Path("hpet"), "", memoryMiB: 64, cpus: 1, Timeout);
        var serial = new SerialCapture();
        string output;
        using (var machine = MachineInstance.Create(new MachineConfig
        {
            KernelPath = TestGuests.Path("hpet"),
            MemoryBytes = 64ul << 20,
            Display = DisplayKind.None,
            Hpet = true,
        }, serial))
        {
            machine.Start();
            output = await serial.WaitForAsync("PLATFORM-TEST hpet PASS", Timeout);
            machine.Hpet!.Interrupts.Should().BeGreaterThanOrEqualTo(12, "one one-shot, ten periodic and one level interrupt at least");
        }

        var qemu = await qemuRun;
        output.Should().Contain("PLATFORM-TEST hpet PASS", output)
            .And.Contain("hpet: ACPI table: block ID 0x8086a201, registers in space 0 at 0xfed00000, number 0")
            .And.Contain("hpet: before legacy replacement the PIT interrupts on IRQ 0: yes")
            .And.Contain("hpet: legacy replacement on: IRQ 0 and IRQ 8 quiet for 120 ms (0 interrupts)")
            .And.Contain("hpet: one-shot timer 0 interrupted 1 time(s) on IOAPIC pin 2")
            .And.Contain("hpet: level timer 1 interrupted 1 time(s) on IOAPIC pin 8, status 0x2, 0x0 once written back");
        qemu.Stdout.Should().Contain("PLATFORM-TEST hpet PASS", qemu.Stdout);
        Lines(output).Should().Equal(Lines(qemu.Stdout), $"ours:\n{output}\nQEMU's:\n{qemu.Stdout}");
    }

    [Fact]
    public async Task A_direct_boot_has_no_HPET_unless_asked_and_a_firmware_boot_has_one_unless_turned_off()
    {
        using (var direct = MachineInstance.Create(new MachineConfig { KernelPath = TestGuests.Path("hello"), MemoryBytes = 64ul << 20, Display = DisplayKind.None }, new SerialCapture()))
        {
            direct.Hpet.Should().BeNull();
        }

        var config = new MachineConfig { Firmware = FirmwareKind.Bios, MemoryBytes = 64ul << 20, Display = DisplayKind.None };
        using (var bios = MachineInstance.Create(config, new SerialCapture()))
        {
            bios.Hpet.Should().NotBeNull();
        }

        using (var off = MachineInstance.Create(config with { Hpet = false }, new SerialCapture()))
        {
            off.Hpet.Should().BeNull();
        }

        await Task.CompletedTask;
    }

    [Fact]
    public async Task The_VMM_gives_a_direct_boot_an_HPET_with_hpet_on_and_refuses_other_words()
    {
        var run = await VmmProcess.RunAsync(Timeout, "--kernel", TestGuests.Path("hpet"), "--memory", "64M", "--display", "none", "--hpet", "on");
        run.Stdout.Should().Contain("PLATFORM-TEST hpet PASS", run.Stdout + run.Stderr);

        var bad = await VmmProcess.RunAsync(Timeout, "--kernel", TestGuests.Path("hpet"), "--memory", "64M", "--hpet", "maybe");
        bad.ExitCode.Should().Be(64, "a usage error, as for any bad option: " + bad.Stderr);
        bad.Stderr.Should().Contain("--hpet takes on or off, not maybe");
    }

    private static string[] Lines(string output) =>
        [.. output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("hpet: ", StringComparison.Ordinal) || l.StartsWith("PLATFORM-TEST", StringComparison.Ordinal))];
}
