using System.Buffers.Binary;
using Platform.Devices.Pci;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Machine.Firmware.Acpi;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine.Pci;

// The PCI root bridge's _CRS must cover every BAR the machine's firmware placed, or an OS that checks (Windows) or
// reallocates (Linux) moves or rejects them. SeaBIOS places them on a firmware boot (top down from 0xFEC00000), the VMM
// on a direct boot; afterwards each memory BAR is read back from configuration space and must lie in a memory window.
public sealed class PciRootWindowTests
{
    private static readonly TimeSpan BiosTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Every_BAR_SeaBIOS_assigned_lies_inside_a_memory_window_of_the_root_bridges_CRS()
    {
        var serial = new SerialCapture();
        var log = new SerialCapture();
        using var machine = MachineInstance.Create(new MachineConfig
        {
            Firmware = FirmwareKind.Bios,
            MemoryBytes = 128ul << 20,
            Display = DisplayKind.Std,
            Rng = true,
            HasCdrom = true,
            Disks = [new DiskOptions(TestGuests.BootImage("mbrstay"), ReadOnly: true)],
        }, serial, firmwareLog: log);
        machine.Start();

        // SeaBIOS has placed and enabled every BAR before it looks for something to boot.
        string text = await log.WaitForAsync("Booting from Hard Disk", BiosTimeout);

        text.Should().Contain("PCI: 32: 0000000080000000 - 00000000fec00000", "SeaBIOS's window for 128 MiB of RAM");
        text.Should().NotContain("PCI: 64:", "no BAR had to go above 4 GiB");
        var bars = AssignedBars(machine.Pci);
        bars.Should().HaveCountGreaterThanOrEqualTo(6, "the std-vga, three virtio functions and the AHCI all have memory BARs");
        bars.Should().OnlyContain(b => InMemoryWindow(b.Address, b.Size), Describe(bars));
    }

    [Fact]
    public void Every_BAR_a_direct_boot_placed_lies_inside_a_memory_window_of_the_root_bridges_CRS()
    {
        using var machine = MachineInstance.Create(new MachineConfig
        {
            KernelPath = TestGuests.Path("hello"),
            MemoryBytes = 64ul << 20,
            Display = DisplayKind.Std,
            Rng = true,
            HasCdrom = true,
        }, new SerialCapture());

        var bars = AssignedBars(machine.Pci);

        bars.Should().HaveCountGreaterThanOrEqualTo(5);
        bars.Should().OnlyContain(b => InMemoryWindow(b.Address, b.Size), Describe(bars));
    }

    [Theory]
    [InlineData(0xE000_0000ul, 0x1000ul, true)]
    [InlineData(0xFEBF_F000ul, 0x1000ul, true)]
    [InlineData(0xFEBF_F000ul, 0x2000ul, false)]
    [InlineData(0xDFFF_F000ul, 0x1000ul, false)]
    [InlineData(0xFEC0_0000ul, 0x1000ul, false)]
    [InlineData(0x1_0000_0000ul, 0x1000ul, false)]
    public void The_window_check_itself_tells_inside_from_outside(ulong address, ulong size, bool inside) =>
        InMemoryWindow(address, size).Should().Be(inside);

    private static bool InMemoryWindow(ulong address, ulong size) =>
        Dsdt.RootWindows.Any(w => w.Kind == AddressSpaceKind.Memory && w.Contains(address, size));

    /// <summary>Every implemented memory BAR of every function on bus 0, as configuration space holds it now.</summary>
    private static List<(int Device, int Bar, ulong Address, ulong Size)> AssignedBars(PciBus bus)
    {
        var bars = new List<(int, int, ulong, ulong)>();
        Span<byte> dword = stackalloc byte[4];
        foreach (var function in bus.Devices.OfType<PciFunction>())
        {
            for (int i = 0; i < PciRegisters.BarCount; i++)
            {
                if (function.BarSize(i) == 0)
                {
                    continue;
                }

                function.ReadConfig(PciRegisters.Bar0 + (4 * i), dword);
                ulong address = BinaryPrimitives.ReadUInt32LittleEndian(dword) & ~0xFul;
                if (function.IsBar64Bit(i))
                {
                    function.ReadConfig(PciRegisters.Bar0 + (4 * i) + 4, dword);
                    address |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(dword) << 32;
                }

                bars.Add((function.DeviceNumber, i, address, function.BarSize(i)));
            }
        }

        return bars;
    }

    private static string Describe(List<(int Device, int Bar, ulong Address, ulong Size)> bars) =>
        string.Join(", ", bars.Select(b => $"00:{b.Device:x2}.0 BAR {b.Bar} at 0x{b.Address:x} size 0x{b.Size:x}"));
}
