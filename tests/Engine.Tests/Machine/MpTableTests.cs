using System.Buffers.Binary;
using System.Text;
using Platform.Engine.Machine;

namespace Platform.Engine.Tests.Machine;

// The MP table as a guest reads it (Linux's mpparse and our test guests' mptable.c).
public sealed class MpTableTests
{
    private const ulong Address = 0x9FC00;

    [Fact]
    public void PCI_is_bus_0_and_ISA_bus_1_and_both_checksums_hold()
    {
        byte[] table = MpTable.Build(Address, 2, [new PciInterruptRoute(1, 1, 17)]);

        Sum(table.AsSpan(0, 16)).Should().Be(0);
        int length = BinaryPrimitives.ReadUInt16LittleEndian(table.AsSpan(16 + 4));
        Sum(table.AsSpan(16, length)).Should().Be(0);
        var buses = Entries(table).Where(e => e[0] == 1).Select(e => (Id: e[1], Type: Encoding.ASCII.GetString(e, 2, 6).Trim())).ToList();
        buses.Should().Equal((0, "PCI"), (1, "ISA"));
    }

    [Fact]
    public void Each_PCI_interrupt_pin_is_a_level_active_low_entry_naming_device_and_pin()
    {
        byte[] table = MpTable.Build(Address, 1, [new PciInterruptRoute(1, 1, 17), new PciInterruptRoute(3, 2, 20)]);

        var pci = Entries(table).Where(e => e[0] == 3 && e[4] == 0).ToList();
        pci.Should().HaveCount(2);
        pci[0].Should().Equal(3, 0, 0x0F, 0, 0, (1 << 2) | 0, MpTable.IoApicId(1), 17);
        pci[1].Should().Equal(3, 0, 0x0F, 0, 0, (3 << 2) | 1, MpTable.IoApicId(1), 20);
    }

    [Fact]
    public void ISA_interrupts_name_the_ISA_bus_with_IRQ_0_on_pin_2()
    {
        byte[] table = MpTable.Build(Address, 1);

        var isa = Entries(table).Where(e => e[0] == 3 && e[4] == 1).ToList();
        isa.Should().Contain(e => e[1] == 0 && e[5] == 0 && e[7] == 2);
        isa.Should().Contain(e => e[1] == 0 && e[5] == 4 && e[7] == 4);
        Entries(table).Where(e => e[0] == 4).Should().OnlyContain(e => e[4] == 1, "local interrupts come from the ISA bus too");
    }

    private static List<byte[]> Entries(byte[] table)
    {
        var header = table.AsSpan(16);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(header[34..]);
        var entries = new List<byte[]>();
        int offset = 44;
        for (int i = 0; i < count; i++)
        {
            int size = header[offset] == 0 ? 20 : 8;
            entries.Add(header.Slice(offset, size).ToArray());
            offset += size;
        }

        return entries;
    }

    private static byte Sum(ReadOnlySpan<byte> data)
    {
        byte sum = 0;
        foreach (byte b in data)
        {
            sum += b;
        }

        return sum;
    }
}
