using System.Buffers.Binary;
using Platform.Engine.Boot;
using Platform.Engine.Machine;
using Platform.Engine.Memory;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Boot;

// The loaders against the real Debian kernel: what lands in guest memory is what the boot protocol requires.
public sealed class KernelLoaderTests : IDisposable
{
    private const ulong Memory = 512ul << 20;
    private readonly GuestMemory _memory = GuestMemory.Allocate(MemoryLayout.RamRegions(Memory));

    public void Dispose() => _memory.Dispose();

    [Fact]
    public void BzImage_zero_page_carries_the_header_cmdline_initrd_and_e820()
    {
        byte[] kernel = File.ReadAllBytes(GuestImages.Path("vmlinuz"));
        byte[] initrd = File.ReadAllBytes(GuestImages.Path("initramfs.cpio.gz"));
        var bz = BzImage.Parse(kernel);

        var plan = KernelLoader.Load(_memory, Memory, kernel, initrd, "console=ttyS0 quiet");

        plan.Mode.Should().Be(EntryMode.Linux64);
        plan.EntryPoint.Should().Be(0x100200, "the 64-bit entry is 0x200 past the protected-mode kernel at 1 MiB");
        var zero = _memory.GetSpan(MemoryLayout.ZeroPage, 4096).ToArray();
        zero.AsSpan(0x202, 4).ToArray().Should().Equal("HdrS"u8.ToArray());
        zero[0x210].Should().Be(0xFF, "type_of_loader: undefined loader");
        (zero[0x211] & 0x81).Should().Be(0x81, "LOADED_HIGH kept and CAN_USE_HEAP set");
        Read32(zero, 0x228).Should().Be((uint)MemoryLayout.CommandLine);
        ReadCString(MemoryLayout.CommandLine).Should().Be("console=ttyS0 quiet");

        uint ramdisk = Read32(zero, 0x218), ramdiskSize = Read32(zero, 0x21C);
        ramdiskSize.Should().Be((uint)initrd.Length);
        (ramdisk % 4096).Should().Be(0);
        ((ulong)ramdisk + ramdiskSize).Should().BeLessThanOrEqualTo((ulong)bz.InitrdAddressMax + 1).And.BeLessThanOrEqualTo(Memory);
        ramdisk.Should().BeGreaterThanOrEqualTo((uint)plan.KernelEnd);
        _memory.GetSpan(ramdisk, 64).ToArray().Should().Equal(initrd.AsSpan(0, 64).ToArray());

        _memory.GetSpan(0x100000, 4096).ToArray().Should().Equal(kernel.AsSpan((int)bz.KernelOffset, 4096).ToArray());

        int e820Count = zero[0x1E8];
        e820Count.Should().Be(3);
        var e820 = Enumerable.Range(0, e820Count).Select(i => (
            Address: BinaryPrimitives.ReadUInt64LittleEndian(zero.AsSpan(0x2D0 + i * 20)),
            Size: BinaryPrimitives.ReadUInt64LittleEndian(zero.AsSpan(0x2D0 + i * 20 + 8)),
            Type: Read32(zero, 0x2D0 + i * 20 + 16))).ToList();
        e820[0].Should().Be((0ul, 0x9FC00ul, 1u));
        e820[1].Type.Should().Be(2u, "640 KiB to 1 MiB is reserved");
        e820[2].Should().Be((0x100000ul, Memory - 0x100000, 1u));
    }

    [Fact]
    public void BzImage_zero_page_describes_the_framebuffer_as_a_VESA_linear_framebuffer()
    {
        byte[] kernel = File.ReadAllBytes(GuestImages.Path("vmlinuz"));
        KernelLoader.Load(_memory, Memory, kernel, [], "console=tty0");
        _memory.GetSpan(MemoryLayout.ZeroPage, 0x40).ToArray().Should().OnlyContain(b => b == 0, "no screen, no screen_info");

        var screen = new ScreenInfo(1024, 768, 32, 4096, 0xE000_0000, 16 << 20);
        KernelLoader.Load(_memory, Memory, kernel, [], "console=tty0", screen);

        // Offsets from include/uapi/linux/screen_info.h; struct screen_info opens the zero page.
        var zero = _memory.GetSpan(MemoryLayout.ZeroPage, 0x40).ToArray();
        zero[0x0F].Should().Be(0x23, "orig_video_isVGA = VIDEO_TYPE_VLFB");
        Read16(zero, 0x12).Should().Be(1024, "lfb_width");
        Read16(zero, 0x14).Should().Be(768, "lfb_height");
        Read16(zero, 0x16).Should().Be(32, "lfb_depth");
        Read32(zero, 0x18).Should().Be(0xE000_0000u, "lfb_base");
        Read32(zero, 0x1C).Should().Be(256u, "lfb_size counts 64 KiB units for VLFB");
        Read16(zero, 0x24).Should().Be(4096, "lfb_linelength");
        zero.AsSpan(0x26, 8).ToArray().Should().Equal([8, 16, 8, 8, 8, 0, 8, 24], "red, green, blue, reserved: size then position");
        Read32(zero, 0x36).Should().Be(0u, "a base below 4 GiB needs no 64-bit capability");
    }

    [Fact]
    public void Vmlinux_loads_by_physical_address_with_hvm_start_info()
    {
        byte[] kernel = File.ReadAllBytes(GuestImages.Path("vmlinux"));
        byte[] initrd = File.ReadAllBytes(GuestImages.Path("initramfs.cpio.gz"));
        var elf = ElfKernel.Parse(kernel);

        var plan = KernelLoader.Load(_memory, Memory, kernel, initrd, "console=ttyS0");

        plan.Mode.Should().Be(EntryMode.Pvh32);
        plan.EntryPoint.Should().Be(elf.PvhEntry);
        var info = _memory.GetSpan(MemoryLayout.PvhStartInfo, PvhStartInfo.Size).ToArray();
        Read32(info, 0).Should().Be(PvhStartInfo.Magic);
        Read32(info, 12).Should().Be(1u, "one module: the initrd");
        ulong module = BinaryPrimitives.ReadUInt64LittleEndian(_memory.GetSpan(BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(16)), 8));
        module.Should().BeGreaterThanOrEqualTo(elf.HighestAddress);
        _memory.GetSpan(module, 16).ToArray().Should().Equal(initrd.AsSpan(0, 16).ToArray());
        ReadCString(BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(24))).Should().Be("console=ttyS0");
        Read32(info, 48).Should().Be(3u, "three memory map entries");

        var first = elf.Segments[0];
        _memory.GetSpan(first.PhysicalAddress, 256).ToArray().Should().Equal(kernel.AsSpan((int)first.FileOffset, 256).ToArray());
    }

    [Theory]
    [InlineData(0x020F, true)]
    [InlineData(0x020E, true)]
    [InlineData(0x020D, false)]
    public void A_bzImage_gets_the_RSDP_in_acpi_rsdp_addr_from_boot_protocol_2_14(int protocol, bool expected)
    {
        byte[] kernel = File.ReadAllBytes(TestGuests.BzImage("bzimage"));
        BinaryPrimitives.WriteUInt16LittleEndian(kernel.AsSpan(0x206), (ushort)protocol);

        KernelLoader.Load(_memory, Memory, kernel, [], "", rsdp: 0xE0000);

        var zero = _memory.GetSpan(MemoryLayout.ZeroPage, 4096).ToArray();
        BinaryPrimitives.ReadUInt64LittleEndian(zero.AsSpan(0x70)).Should().Be(expected ? 0xE0000ul : 0ul,
            "acpi_rsdp_addr came with protocol 2.14; an older kernel's zero page has something else there");
    }

    [Theory]
    [InlineData(0ul)]
    [InlineData(0xE0000ul)]
    public void A_PVH_kernel_gets_the_RSDP_in_hvm_start_info(ulong rsdp)
    {
        byte[] kernel = File.ReadAllBytes(TestGuests.Path("hello"));

        KernelLoader.Load(_memory, Memory, kernel, [], "", rsdp: rsdp);

        var info = _memory.GetSpan(MemoryLayout.PvhStartInfo, PvhStartInfo.Size).ToArray();
        BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(32)).Should().Be(rsdp, "rsdp_paddr");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(0x300)]
    public void A_truncated_kernel_is_refused_with_a_reason(int length)
    {
        byte[] kernel = File.ReadAllBytes(GuestImages.Path("vmlinuz"))[..length];
        var act = () => KernelLoader.Load(_memory, Memory, kernel, [], "");
        act.Should().Throw<BootException>().Which.Message.Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Something_that_is_not_a_kernel_is_refused()
    {
        byte[] junk = new byte[64 * 1024];
        new Random(7).NextBytes(junk);
        var act = () => KernelLoader.Load(_memory, Memory, junk, [], "");
        act.Should().Throw<BootException>().WithMessage("*neither a bzImage*nor an ELF*");
    }

    [Fact]
    public void A_kernel_that_does_not_fit_in_RAM_is_refused()
    {
        using var small = GuestMemory.Allocate(MemoryLayout.RamRegions(16ul << 20));
        byte[] kernel = File.ReadAllBytes(GuestImages.Path("vmlinux"));
        var act = () => KernelLoader.Load(small, 16ul << 20, kernel, [], "");
        act.Should().Throw<BootException>().WithMessage("*more --memory*");
    }

    [Fact]
    public void An_initrd_too_big_for_RAM_is_refused()
    {
        byte[] kernel = File.ReadAllBytes(GuestImages.Path("vmlinuz"));
        byte[] initrd = new byte[Memory - (2ul << 20)]; // leaves less room than the 8 MiB kernel at 1 MiB needs
        var act = () => KernelLoader.Load(_memory, Memory, kernel, initrd, "");
        act.Should().Throw<BootException>().WithMessage("*initrd*does not fit*");
    }

    // Boot protocol, init_size: from its runtime start (pref_address for a kernel that does not relocate, else the load
    // address raised to pref_address and aligned to kernel_alignment) the kernel writes init_size bytes before it reads
    // the memory map, so that window must be RAM and must not hold the initrd.
    [Fact]
    public void The_initrd_stays_out_of_the_kernels_init_size_window()
    {
        const ulong Small = 48ul << 20, Window = 32ul << 20;
        using var memory = GuestMemory.Allocate(MemoryLayout.RamRegions(Small));
        byte[] kernel = WithInitSize(File.ReadAllBytes(TestGuests.BzImage("bzimage")), (uint)Window); // at 1 MiB, not relocatable

        var act = () => KernelLoader.Load(memory, Small, kernel, new byte[20 << 20], "");
        act.Should().Throw<BootException>("20 MiB at the top of 48 MiB would start at 28 MiB, inside 1–33 MiB")
            .WithMessage("*initrd*does not fit*");

        KernelLoader.Load(memory, Small, kernel, new byte[8 << 20], "");
        uint ramdisk = BinaryPrimitives.ReadUInt32LittleEndian(memory.GetSpan(MemoryLayout.ZeroPage + 0x218, 4));
        ((ulong)ramdisk).Should().BeGreaterThanOrEqualTo(MemoryLayout.KernelLoad + Window);
    }

    [Fact]
    public void A_kernel_whose_init_size_window_is_not_all_RAM_is_refused()
    {
        // Debian's kernel is relocatable with pref_address 16 MiB and init_size about 64 MiB: it runs from 16 MiB to about 80.
        byte[] kernel = File.ReadAllBytes(GuestImages.Path("vmlinuz"));
        var bz = BzImage.Parse(kernel);
        bz.RuntimeStart(MemoryLayout.KernelLoad).Should().Be(16ul << 20);
        bz.InitSize.Should().BeGreaterThan(32u << 20);

        using var small = GuestMemory.Allocate(MemoryLayout.RamRegions(64ul << 20));
        var act = () => KernelLoader.Load(small, 64ul << 20, kernel, [], "");
        act.Should().Throw<BootException>().WithMessage("*init_size*more --memory*");
    }

    private static byte[] WithInitSize(byte[] kernel, uint initSize)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(kernel.AsSpan(0x260), initSize);
        return kernel;
    }

    [Fact]
    public void A_truncated_ELF_is_refused()
    {
        byte[] kernel = File.ReadAllBytes(GuestImages.Path("vmlinux"))[..4096];
        var act = () => KernelLoader.Load(_memory, Memory, kernel, [], "");
        act.Should().Throw<BootException>().WithMessage("*truncated*");
    }

    private static ushort Read16(byte[] data, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(offset));

    private static uint Read32(byte[] data, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset));

    private string ReadCString(ulong address)
    {
        var bytes = _memory.GetSpan(address, 256);
        return System.Text.Encoding.ASCII.GetString(bytes[..bytes.IndexOf((byte)0)]);
    }
}
