using System.Text;
using Platform.Engine.Machine;
using Platform.Engine.Memory;

namespace Platform.Engine.Boot;

/// <summary>
/// Places a kernel, its command line and initrd in guest memory and says how to enter it. A bzImage takes the
/// Linux 64-bit boot protocol; an ELF with a PVH note takes the PVH entry. Every size is checked against RAM
/// first, so a bad image fails with a <see cref="BootException"/> before anything runs.
/// </summary>
public static class KernelLoader
{
    private const ulong PageSize = 4096;

    /// <param name="screen">The framebuffer set up for the kernel, described in a bzImage's zero page
    /// (<c>screen_info</c>); the PVH entry has no place for it and ignores it.</param>
    /// <param name="rsdp">Where the machine wrote its ACPI RSDP (0: no ACPI), handed over in <c>hvm_start_info</c> or
    /// the zero page's <c>acpi_rsdp_addr</c>, so the kernel need not scan for it.</param>
    public static BootPlan Load(GuestMemory memory, ulong memoryBytes, ReadOnlySpan<byte> kernel, ReadOnlySpan<byte> initrd,
        string commandLine, ScreenInfo? screen = null, ulong rsdp = 0)
    {
        byte[] cmdline = Encoding.UTF8.GetBytes(commandLine + "\0");
        if (cmdline.Length > MemoryLayout.CommandLineMax)
        {
            throw new BootException($"The command line is {cmdline.Length - 1} bytes; at most {MemoryLayout.CommandLineMax - 1} fit.");
        }

        ulong lowRamEnd = Math.Min(memoryBytes, MemoryLayout.PciHoleStart);
        var e820 = E820.Build(memoryBytes);

        if (ElfKernel.LooksLikeElf(kernel))
        {
            return LoadPvh(memory, lowRamEnd, ElfKernel.Parse(kernel), kernel, initrd, cmdline, e820, rsdp);
        }

        if (BzImage.LooksLikeBzImage(kernel))
        {
            return LoadBzImage(memory, lowRamEnd, BzImage.Parse(kernel), kernel, initrd, cmdline, e820, screen, rsdp);
        }

        throw new BootException(kernel.Length < 0x206
            ? $"The kernel file is {kernel.Length} bytes: too short to be a kernel."
            : "The kernel is neither a bzImage (no \"HdrS\" at 0x202) nor an ELF file.");
    }

    private static BootPlan LoadPvh(GuestMemory memory, ulong lowRamEnd, ElfKernel elf, ReadOnlySpan<byte> image,
        ReadOnlySpan<byte> initrd, byte[] cmdline, IReadOnlyList<E820Entry> e820, ulong rsdp)
    {
        foreach (var segment in elf.Segments)
        {
            if (segment.PhysicalAddress < MemoryLayout.HighMemoryStart || segment.PhysicalAddress + segment.MemorySize > lowRamEnd)
            {
                throw new BootException(
                    $"The kernel wants 0x{segment.PhysicalAddress:x}–0x{segment.PhysicalAddress + segment.MemorySize:x}, outside RAM from 1 MiB to 0x{lowRamEnd:x}: give the VM more --memory.");
            }
        }

        foreach (var segment in elf.Segments)
        {
            var target = memory.GetSpan(segment.PhysicalAddress, checked((int)segment.MemorySize));
            image.Slice((int)segment.FileOffset, (int)segment.FileSize).CopyTo(target);
            target[(int)segment.FileSize..].Clear();
        }

        uint modules = 0;
        if (!initrd.IsEmpty)
        {
            ulong initrdAddress = PlaceInitrd(memory, elf.HighestAddress, lowRamEnd, MemoryLayout.PciHoleStart, initrd);
            memory.GetSpan(MemoryLayout.PvhModuleList, PvhStartInfo.ModuleEntrySize)
                .Overwrite(PvhStartInfo.BuildModule(initrdAddress, (ulong)initrd.Length));
            modules = 1;
        }

        memory.GetSpan(MemoryLayout.CommandLine, cmdline.Length).Overwrite(cmdline);
        byte[] map = PvhStartInfo.BuildMemoryMap(e820);
        memory.GetSpan(MemoryLayout.PvhMemoryMap, map.Length).Overwrite(map);
        memory.GetSpan(MemoryLayout.PvhStartInfo, PvhStartInfo.Size).Overwrite(PvhStartInfo.Build(
            MemoryLayout.CommandLine, MemoryLayout.PvhModuleList, modules, MemoryLayout.PvhMemoryMap, e820.Count, rsdp));
        BootGdt.Write(memory);
        return new BootPlan(EntryMode.Pvh32, elf.PvhEntry, MemoryLayout.PvhStartInfo, elf.HighestAddress);
    }

    private static BootPlan LoadBzImage(GuestMemory memory, ulong lowRamEnd, BzImage bz, ReadOnlySpan<byte> image,
        ReadOnlySpan<byte> initrd, byte[] cmdline, IReadOnlyList<E820Entry> e820, ScreenInfo? screen, ulong rsdp)
    {
        var protectedMode = image[(int)bz.KernelOffset..];
        ulong kernelEnd = MemoryLayout.KernelLoad + (ulong)protectedMode.Length;
        if (kernelEnd > lowRamEnd)
        {
            throw new BootException($"The kernel ({protectedMode.Length >> 20} MiB) does not fit in RAM: give the VM more --memory.");
        }

        // The kernel writes init_size bytes from its runtime start (decompressing itself there) before it reads the memory
        // map: that window must be RAM, and the initrd goes above it as well as above the loaded file.
        ulong runtimeEnd = bz.RuntimeStart(MemoryLayout.KernelLoad) + bz.InitSize;
        if (runtimeEnd > lowRamEnd)
        {
            throw new BootException(
                $"The kernel needs RAM up to 0x{runtimeEnd:x} (its init_size window) and the VM has 0x{lowRamEnd:x}: give the VM more --memory.");
        }

        ulong reservedEnd = Math.Max(kernelEnd, runtimeEnd);

        if (bz.CommandLineSize != 0 && (ulong)cmdline.Length - 1 > bz.CommandLineSize)
        {
            throw new BootException($"The command line is {cmdline.Length - 1} bytes; this kernel takes at most {bz.CommandLineSize}.");
        }

        protectedMode.CopyTo(memory.GetSpan(MemoryLayout.KernelLoad, protectedMode.Length));
        memory.GetSpan(MemoryLayout.CommandLine, cmdline.Length).Overwrite(cmdline);

        var zeroPage = new ZeroPage(bz);
        zeroPage.SetLoader();
        zeroPage.SetCommandLine(MemoryLayout.CommandLine);
        zeroPage.SetE820(e820);
        if (rsdp != 0 && bz.Protocol >= ZeroPage.AcpiRsdpProtocol)
        {
            zeroPage.SetAcpiRsdp(rsdp);
        }
        if (screen is not null)
        {
            zeroPage.SetScreenInfo(screen);
        }

        if (!initrd.IsEmpty)
        {
            // The initrd must end below initrd_addr_max (the kernel's own limit) and below RAM's end.
            ulong limit = Math.Min(lowRamEnd, (ulong)bz.InitrdAddressMax + 1);
            ulong address = PlaceInitrd(memory, reservedEnd, lowRamEnd, limit, initrd);
            zeroPage.SetRamdisk(address, (ulong)initrd.Length);
        }

        memory.GetSpan(MemoryLayout.ZeroPage, ZeroPage.Size).Overwrite(zeroPage.Bytes);
        PageTables.WriteIdentityMap(memory);
        BootGdt.Write(memory);
        return new BootPlan(EntryMode.Linux64, MemoryLayout.KernelLoad + 0x200, MemoryLayout.ZeroPage, kernelEnd);
    }

    /// <summary>Puts the initrd as high as allowed (page-aligned), as QEMU does, keeping clear of the kernel.</summary>
    private static ulong PlaceInitrd(GuestMemory memory, ulong kernelEnd, ulong ramEnd, ulong limit, ReadOnlySpan<byte> initrd)
    {
        ulong top = Math.Min(ramEnd, limit);
        ulong size = (ulong)initrd.Length;
        if (size > top || ((top - size) & ~(PageSize - 1)) < AlignUp(kernelEnd))
        {
            throw new BootException(
                $"The initrd ({size >> 20} MiB) does not fit between the kernel's end (0x{kernelEnd:x}) and 0x{top:x}: give the VM more --memory.");
        }

        ulong address = (top - size) & ~(PageSize - 1);
        initrd.CopyTo(memory.GetSpan(address, initrd.Length));
        return address;
    }

    private static ulong AlignUp(ulong value) => (value + PageSize - 1) & ~(PageSize - 1);

    private static void Overwrite(this Span<byte> target, ReadOnlySpan<byte> source) => source.CopyTo(target);
}
