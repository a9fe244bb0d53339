using System.Buffers.Binary;
using System.Text;
using Platform.Devices.Firmware;
using Platform.Engine.Machine;
using Platform.Engine.Machine.Firmware;
using Platform.Engine.Memory;

namespace Platform.Engine.Tests.Machine;

// What SeaBIOS reads from fw_cfg on our machine: the memory map and the boot order as QEMU writes them.
public sealed class FirmwareConfigTests
{
    [Fact]
    public void The_e820_file_has_RAM_below_the_hole_and_above_4_GiB_and_reserves_KVMs_real_mode_pages()
    {
        MemoryRegion[] ram = [new(0, 3ul << 30, 0), new(1ul << 32, 1ul << 30, 0)];

        byte[] table = FirmwareConfig.E820(ram);

        table.Length.Should().Be(3 * 20);
        var entries = Enumerable.Range(0, 3).Select(i => table.AsSpan(i * 20, 20).ToArray())
            .Select(e => (BinaryPrimitives.ReadUInt64LittleEndian(e), BinaryPrimitives.ReadUInt64LittleEndian(e.AsSpan(8)),
                BinaryPrimitives.ReadUInt32LittleEndian(e.AsSpan(16))));
        entries.Should().Equal((0ul, 3ul << 30, 1u), (1ul << 32, 1ul << 30, 1u), (0xFFFB_C000ul, 0x4000ul, 2u));
    }

    [Fact]
    public void The_boot_order_names_each_disk_by_its_PCI_slot_as_QEMU_does()
    {
        string order = Encoding.ASCII.GetString(FirmwareConfig.BootOrder([.. new[] { 2, 3, 0x1f }.Select(FirmwareConfig.VirtioDiskPath)]));

        order.Should().Be("/pci@i0cf8/scsi@2/disk@0,0\n/pci@i0cf8/scsi@3/disk@0,0\n/pci@i0cf8/scsi@1f/disk@0,0\0");
    }

    [Fact]
    public void A_CD_ROM_on_an_AHCI_port_is_named_as_SeaBIOS_looks_for_an_ATA_drive()
    {
        string order = Encoding.ASCII.GetString(FirmwareConfig.BootOrder([FirmwareConfig.AhciDrivePath(0x1f, 0), FirmwareConfig.VirtioDiskPath(2)]));

        // SeaBIOS builds "/pci@i0cf8/*@1f/drive@0/disk@0" for AHCI port 0 of the function at 00:1f.0 and matches it as a glob.
        order.Should().Be("/pci@i0cf8/sata@1f/drive@0/disk@0\n/pci@i0cf8/scsi@2/disk@0,0\0");
    }

    [Fact]
    public void A_machine_without_a_display_asks_for_the_BIOS_serial_console_and_no_boot_menu()
    {
        var config = new MachineConfig { Firmware = FirmwareKind.Bios, Display = DisplayKind.None, CpuCount = 2 };

        var contents = FirmwareConfig.Build(config, [new(0, 64ul << 20, 0)], [FirmwareConfig.VirtioDiskPath(2)]);
        using var memory = GuestMemory.Allocate([(0, 1 << 20)]);
        var device = new FwCfgDevice(contents, memory);

        contents.FileNames.Should().Equal("bootorder", "etc/boot-menu-wait", "etc/e820", "etc/smbios/smbios-anchor", "etc/smbios/smbios-tables");
        Item(device, FwCfgKeys.NoGraphic, 2).Should().Equal(1, 0);
        Item(device, FwCfgKeys.BootMenu, 2).Should().Equal(0, 0);
        Item(device, FwCfgKeys.CpuCount, 2).Should().Equal(2, 0);
        Item(device, FwCfgKeys.MaxCpus, 2).Should().Equal(2, 0);
        Item(device, FwCfgKeys.Irq0Override, 4).Should().Equal(1, 0, 0, 0);
    }

    [Fact]
    public void The_SMBIOS_tables_are_well_formed_and_the_entry_point_describes_them()
    {
        var (tables, anchor) = SmbiosTables.Build(3ul << 30, 17ul << 30, cpuCount: 2, processorId: 0x0F8BFBFF_000806F8);

        anchor.Length.Should().Be(0x1F);
        Encoding.ASCII.GetString(anchor, 0, 4).Should().Be("_SM_");
        Encoding.ASCII.GetString(anchor, 0x10, 5).Should().Be("_DMI_");
        anchor.Aggregate(0, (sum, b) => sum + b).Should().Match(sum => sum % 256 == 0, "the whole entry point sums to 0");
        anchor.Skip(0x10).Aggregate(0, (sum, b) => sum + b).Should().Match(sum => sum % 256 == 0, "so does its intermediate part");
        BinaryPrimitives.ReadUInt16LittleEndian(anchor.AsSpan(0x16)).Should().Be((ushort)tables.Length);

        // Walk the structures as SeaBIOS's smbios_next does: formatted part, then strings up to a double NUL.
        var types = new List<byte>();
        int at = 0, maxSize = 0;
        while (at < tables.Length)
        {
            int start = at;
            types.Add(tables[at]);
            at += tables[at + 1];
            while (tables[at] != 0 || tables[at + 1] != 0)
            {
                at++;
            }

            at += 2;
            maxSize = Math.Max(maxSize, at - start);
        }

        at.Should().Be(tables.Length);
        types.Should().Equal(1, 3, 4, 4, 16, 17, 17, 19, 19, 32, 127);
        BinaryPrimitives.ReadUInt16LittleEndian(anchor.AsSpan(0x1C)).Should().Be((ushort)types.Count);
        BinaryPrimitives.ReadUInt16LittleEndian(anchor.AsSpan(8)).Should().Be((ushort)maxSize);
    }

    private static byte[] Item(FwCfgDevice device, ushort key, int length)
    {
        device.Write(0, BitConverter.GetBytes(key));
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            device.Read(1, bytes.AsSpan(i, 1));
        }

        return bytes;
    }
}
