using System.Buffers.Binary;
using System.Globalization;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Boot;

// The Linux boot contract, proven without Linux (which cannot run on PVM hosts): the bzImage-shaped test guest
// (tests/guests/bzimage) prints the zero page it was handed. Under our direct boot (its 64-bit entry) and under QEMU's
// -kernel (QEMU's loader, then the guest's real-mode setup code as Linux's own) the dumps must agree field by field,
// except where we differ on purpose: those are listed with the reason, and our value is checked for sanity instead.
public sealed class BzImageBootTests : IDisposable
{
    private const int MemoryMiB = 256;
    private const ulong KernelLoad = 0x100000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    // Quotes, '=', '-' and more than 80 columns: a kernel must get the text byte for byte.
    private const string CommandLine =
        "console=ttyS0 root=/dev/vda rw quoted=\"a b c\" panic=-1 init=/sbin/init platform.test=bzimage-boot-contract end";

    /// <summary>Fields a loader passes through from the kernel's header, or sets as QEMU does: equal under both.</summary>
    private static readonly string[] SameUnderBoth =
    [
        "hdr.magic", "hdr.version", "hdr.setup_sects", "hdr.syssize", "hdr.code32_start", "hdr.initrd_addr_max",
        "hdr.kernel_alignment", "hdr.relocatable_kernel", "hdr.xloadflags", "hdr.cmdline_size", "hdr.pref_address",
        "hdr.init_size", "hdr.vid_mode",
        "hdr.loadflags",       // LOADED_HIGH kept, CAN_USE_HEAP added
        "hdr.heap_end_ptr",    // 0xFE00: the value QEMU gives; the 64-bit entry never runs the real-mode heap
        "hdr.ext_loader_ver", "hdr.ext_loader_type", // only meaningful with type_of_loader 0xE: neither sets them
        "hdr.setup_data",      // no setup_data chain from either
        "cmd_line_ptr",        // both put the command line at 0x20000
        "cmdline", "ramdisk_size", "ramdisk_fnv1a",
        "screen.orig_video_isVGA", // no display on either side here (see the display test for ours)
    ];

    /// <summary>
    /// Fields where we differ from QEMU on purpose (each checked below):
    /// entry — we enter startup_64 (XLF_KERNEL_64), as Firecracker does; QEMU runs the real-mode setup code, which enters
    ///   code32_start.
    /// zero_page — ours sits at MemoryLayout.ZeroPage; under QEMU the setup code builds it inside its own segment.
    /// hdr.type_of_loader — we have no assigned boot loader id, so 0xFF ("undefined"); QEMU has 0xB (0xB0).
    /// ramdisk_image — both put the initrd as high as they can; QEMU keeps the top 128 KiB of low RAM for its ACPI
    ///   tables (its e820 reserves it), so its initrd sits lower.
    /// e820_entries and the map — SeaBIOS lists the legacy area in pieces and reserves its ACPI tables, KVM's pages at
    ///   0xFEFFC000 and its flash; we reserve 640 KiB–1 MiB whole (our ACPI tables lie in it) and give the rest as RAM.
    /// acpi_rsdp_addr — we write our tables ourselves and say where the RSDP is (boot protocol 2.14); QEMU leaves 0, the
    ///   kernel then scanning for the RSDP SeaBIOS put in the F segment.
    /// </summary>
    private static readonly string[] DifferOnPurpose = ["entry", "zero_page", "hdr.type_of_loader", "ramdisk_image", "e820_entries", "acpi_rsdp_addr"];

    /// <summary>Header fields the kernel wrote and a loader must leave alone, by zero-page offset and width.</summary>
    private static readonly (string Field, int Offset, int Width)[] KernelOwned =
    [
        ("hdr.version", 0x206, 2), ("hdr.setup_sects", 0x1F1, 1), ("hdr.syssize", 0x1F4, 4), ("hdr.code32_start", 0x214, 4),
        ("hdr.initrd_addr_max", 0x22C, 4), ("hdr.kernel_alignment", 0x230, 4), ("hdr.relocatable_kernel", 0x234, 1),
        ("hdr.xloadflags", 0x236, 2), ("hdr.cmdline_size", 0x238, 4), ("hdr.pref_address", 0x258, 8),
        ("hdr.init_size", 0x260, 4), ("hdr.vid_mode", 0x1FA, 2),
    ];

    private readonly string _initrd = Path.Combine(Path.GetTempPath(), $"bz-initrd-{Guid.NewGuid():N}");
    private readonly byte[] _initrdBytes;

    public BzImageBootTests()
    {
        // An odd size (not a page multiple) of random bytes, so a short or shifted copy changes the checksum.
        _initrdBytes = new byte[3 * 4096 + 57];
        new Random(20261206).NextBytes(_initrdBytes);
        File.WriteAllBytes(_initrd, _initrdBytes);
    }

    public void Dispose() => File.Delete(_initrd);

    // 4 GiB: RAM on both sides of the PCI hole (QEMU's pc machine also stops low RAM at 3 GiB), and the initrd then
    // placed by initrd_addr_max (2 GiB) rather than by the end of RAM.
    [Theory]
    [InlineData(256)]
    [InlineData(4096)]
    public async Task Our_zero_page_agrees_with_QEMUs_field_by_field_but_for_the_listed_differences(int memoryMiB)
    {
        string kernel = TestGuests.BzImage("bzimage");
        var qemuRun = QemuPc.BootKernelAsync(kernel, _initrd, CommandLine, memoryMiB, Timeout);
        var ours = await VmmProcess.RunAsync(Timeout, "--kernel", kernel, "--initrd", _initrd, "--append", CommandLine,
            "--memory", $"{memoryMiB}M", "--display", "none");
        var qemu = await qemuRun;

        ours.ExitCode.Should().Be(2, "the guest resets after its dump and --on-reboot exit ends the VMM:\n" + ours.Stdout + ours.Stderr);
        qemu.ExitCode.Should().Be(0, qemu.Stderr);
        var our = ZeroPageDump.Parse(ours.Stdout);
        var their = ZeroPageDump.Parse(qemu.Stdout);

        // Every field present on both sides, and each one either compared or listed as a difference.
        string[] all = [.. SameUnderBoth, .. DifferOnPurpose];
        our.Fields.Keys.Should().BeEquivalentTo(all, "ours:\n" + ours.Stdout);
        their.Fields.Keys.Should().BeEquivalentTo(all, "QEMU's:\n" + qemu.Stdout);
        foreach (string field in SameUnderBoth)
        {
            our.Fields[field].Should().Be(their.Fields[field], $"{field} must be what QEMU gives the kernel");
        }

        // What the loader must pass through or write, checked against the file and the inputs, not only against QEMU.
        byte[] header = File.ReadAllBytes(kernel).AsSpan(0, 0x300).ToArray();
        foreach (var (field, offset, width) in KernelOwned)
        {
            our.Number(field).Should().Be(ReadHeader(header, offset, width), $"{field} is the kernel's, copied unchanged");
        }

        our.Fields["hdr.magic"].Should().Be("HdrS");
        our.Number("hdr.loadflags").Should().Be(0x81, "LOADED_HIGH from the kernel, CAN_USE_HEAP from the loader");
        our.Number("hdr.heap_end_ptr").Should().Be(0xFE00);
        our.Fields["cmdline"].Should().Be($"'{CommandLine}'");
        our.Number("ramdisk_size").Should().Be((ulong)_initrdBytes.Length);
        our.Number("ramdisk_fnv1a").Should().Be(Fnv1a(_initrdBytes), "the guest read back the initrd's bytes where the zero page says");

        // The differences, each with a sane value of ours.
        our.Fields["entry"].Should().Be("64", "we enter the 64-bit entry at load address + 0x200");
        their.Fields["entry"].Should().Be("32", "QEMU's path goes through the real-mode setup code to code32_start");
        our.Number("zero_page").Should().Be(MemoryLayout.ZeroPage);
        our.Number("hdr.type_of_loader").Should().Be(0xFF, "we have no assigned boot loader id");
        our.Number("acpi_rsdp_addr").Should().Be(MemoryLayout.AcpiRsdp, "the RSDP we wrote, for a kernel of protocol 2.14 or later");
        their.Number("acpi_rsdp_addr").Should().Be(0, "QEMU's -kernel leaves the RSDP to be found by scanning");
        our.E820.Should().Contain(e => e.Type == 2 && e.Address <= MemoryLayout.AcpiRsdp && e.Address + e.Size >= MemoryLayout.AcpiTablesEnd,
            "our ACPI tables lie in reserved memory, which the kernel leaves alone");
        their.Number("hdr.type_of_loader").Should().Be(0xB0);
        CheckMemoryMap(our, their, (ulong)memoryMiB << 20);
        CheckInitrdPlacement(our);
        CheckInitrdPlacement(their);
    }

    [Fact]
    public async Task With_a_display_screen_info_describes_our_framebuffer_as_a_VESA_linear_framebuffer()
    {
        // QEMU's -kernel leaves the video to the kernel's real-mode setup (VGA text unless vga= asks); we set a mode on our
        // std-vga and describe it as VIDEO_TYPE_VLFB, so vesafb and fbcon draw from the first line. No QEMU peer here.
        var ours = await VmmProcess.RunAsync(Timeout, "--kernel", TestGuests.BzImage("bzimage"), "--initrd", _initrd,
            "--append", CommandLine, "--memory", $"{MemoryMiB}M");
        ours.ExitCode.Should().Be(2, ours.Stdout + ours.Stderr);
        var our = ZeroPageDump.Parse(ours.Stdout);

        our.Number("screen.orig_video_isVGA").Should().Be(0x23, "VIDEO_TYPE_VLFB");
        ulong width = our.Number("screen.lfb_width"), height = our.Number("screen.lfb_height");
        ulong stride = our.Number("screen.lfb_linelength"), lfbBase = our.Number("screen.lfb_base");
        width.Should().BeGreaterThan(0);
        height.Should().BeGreaterThan(0);
        our.Number("screen.lfb_depth").Should().Be(32);
        stride.Should().BeGreaterThanOrEqualTo(width * 4);
        (our.Number("screen.lfb_size") << 16).Should().BeGreaterThanOrEqualTo(stride * height, "lfb_size counts 64 KiB units for VLFB");
        lfbBase.Should().BeInRange(MemoryLayout.PciWindowStart, MemoryLayout.PciWindowEnd - 1, "video memory is a PCI BAR");
        our.E820.Should().NotContain(e => e.Type == 1 && lfbBase >= e.Address && lfbBase < e.Address + e.Size, "the framebuffer is not RAM");
        our.Fields["cmdline"].Should().Be($"'{CommandLine}'", "the display changes nothing else");
    }

    /// <summary>Ours: sorted, no overlaps, RAM exactly the configured memory less the legacy hole, at least what QEMU gives.</summary>
    private static void CheckMemoryMap(ZeroPageDump our, ZeroPageDump their, ulong memory)
    {
        our.Number("e820_entries").Should().Be((ulong)our.E820.Count);
        their.Number("e820_entries").Should().Be((ulong)their.E820.Count);
        for (int i = 1; i < our.E820.Count; i++)
        {
            our.E820[i].Address.Should().BeGreaterThanOrEqualTo(our.E820[i - 1].Address + our.E820[i - 1].Size, "entries are sorted and disjoint");
        }

        var ram = our.E820.Where(e => e.Type == 1).Select(e => (e.Address, e.Size)).ToList();
        var configured = MemoryLayout.RamRegions(memory).Select(r => r.GuestAddress == 0 ? (KernelLoad, r.Size - KernelLoad) : r);
        ram.Should().Equal([(0ul, 0x9FC00ul), .. configured], "all configured RAM but the legacy hole");
        their.E820.Where(e => e.Type == 1 && e.Address < KernelLoad).Select(e => (e.Address, e.Size))
            .Should().Equal(ram.Where(r => r.Address < KernelLoad), "below 1 MiB both give the same base memory");
        foreach (var r in their.E820.Where(e => e.Type == 1))
        {
            ram.Should().Contain(o => r.Address >= o.Address && r.Address + r.Size <= o.Address + o.Size,
                $"QEMU's RAM 0x{r.Address:x}+0x{r.Size:x} is RAM in ours too");
        }

        // The kernel's area from its load address (init_size), the zero page and the command line all lie in RAM.
        our.InRam(KernelLoad, our.Number("hdr.init_size")).Should().BeTrue("the kernel's init_size from 1 MiB is RAM");
        our.InRam(our.Number("zero_page"), 4096).Should().BeTrue();
        our.InRam(our.Number("cmd_line_ptr"), (ulong)CommandLine.Length + 1).Should().BeTrue();
    }

    /// <summary>The initrd lies in RAM, page aligned, below initrd_addr_max, clear of the kernel, zero page and command line.</summary>
    private static void CheckInitrdPlacement(ZeroPageDump dump)
    {
        ulong image = dump.Number("ramdisk_image"), size = dump.Number("ramdisk_size");
        (image % 4096).Should().Be(0, "the initrd starts on a page");
        (image + size - 1).Should().BeLessThanOrEqualTo(dump.Number("hdr.initrd_addr_max"));
        dump.InRam(image, size).Should().BeTrue($"the initrd at 0x{image:x} is inside one RAM entry");
        image.Should().BeGreaterThanOrEqualTo(KernelLoad + dump.Number("hdr.init_size"), "the kernel's init_size area stays free");
        ulong cmdline = dump.Number("cmd_line_ptr");
        (image >= cmdline + (ulong)CommandLine.Length + 1 || image + size <= cmdline).Should().BeTrue("the initrd misses the command line");
    }

    private static ulong ReadHeader(byte[] header, int offset, int width) => width switch
    {
        1 => header[offset],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(offset)),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(offset)),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(offset)),
    };

    private static ulong Fnv1a(byte[] data)
    {
        uint hash = 0x811C9DC5;
        foreach (byte b in data)
        {
            hash = (hash ^ b) * 0x01000193;
        }

        return hash;
    }

    /// <summary>The guest's "bz: FIELD VALUE" lines, with the "bz: e820 I ADDRESS SIZE TYPE" lines as a list.</summary>
    private sealed class ZeroPageDump
    {
        public Dictionary<string, string> Fields { get; } = [];

        public List<(ulong Address, ulong Size, uint Type)> E820 { get; } = [];

        public static ZeroPageDump Parse(string stdout)
        {
            stdout.Should().Contain("PLATFORM-TEST bzimage PASS", "the guest ends its dump with PASS:\n" + stdout);
            var dump = new ZeroPageDump();
            foreach (string raw in stdout.Split('\n'))
            {
                string line = raw.TrimEnd('\r');
                if (!line.StartsWith("bz: ", StringComparison.Ordinal))
                {
                    continue;
                }

                string[] parts = line[4..].Split(' ', 2);
                parts.Should().HaveCount(2, $"'{line}' has a field and a value");
                if (parts[0] == "e820")
                {
                    string[] e = parts[1].Split(' ');
                    dump.E820.Add((ParseNumber(e[1]), ParseNumber(e[2]), (uint)ParseNumber(e[3])));
                    continue;
                }

                dump.Fields.TryAdd(parts[0], parts[1]).Should().BeTrue($"{parts[0]} is printed once");
            }

            return dump;
        }

        public ulong Number(string field) => ParseNumber(Fields[field]);

        public bool InRam(ulong address, ulong size) =>
            E820.Any(e => e.Type == 1 && address >= e.Address && address + size <= e.Address + e.Size);

        private static ulong ParseNumber(string text) => text.StartsWith("0x", StringComparison.Ordinal)
            ? ulong.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : ulong.Parse(text, CultureInfo.InvariantCulture);
    }
}
