using Platform.Devices.Abstractions;
using Platform.Devices.Pci;
using Platform.Engine.Boot;
using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;
using Platform.Engine.Memory;

namespace Platform.Engine.Machine.Firmware;

/// <summary>
/// The memory map a BIOS expects, as QEMU's pc machine lays it out: the BIOS flash read-only at the top of 4 GiB, its
/// last 128 KiB also at 0xE0000–0xFFFFF, RAM below 0xA0000 and from 1 MiB, the legacy VGA window 0xA0000–0xBFFFF left to
/// devices, and 0xC0000–0xFFFFF in thirteen segments that the host bridge's PAM registers switch between the bus, RAM
/// and write-protected RAM (<see cref="IShadowRamControl"/>), each a KVM memory slot of its own.
/// </summary>
/// <remarks>
/// <para>
/// KVM slots cannot overlap, so low RAM is registered in pieces around the shadow area (slot 0 below 0xA0000,
/// <see cref="HighRamSlot"/> from 1 MiB) instead of one slot from 0. Read-only slots (<see cref="KvmVm.MemReadOnly"/>)
/// carry the flash and write-protected segments: the guest reads them in place, and its writes exit to
/// <see cref="Ignored"/>, which drops and counts them, as writes to a ROM are lost on a PC. A segment on the bus with no
/// flash behind it (0xC0000–0xDFFFF) has no slot and reads as all ones.
/// </para>
/// <para>
/// <see cref="SetMode"/> runs on the vCPU thread that wrote the PAM register, with the vCPU out of KVM_RUN; KVM makes
/// the change visible to every vCPU (other vCPUs see either mapping, never a torn one, as on hardware).
/// </para>
/// </remarks>
internal sealed class BiosMemory : IShadowRamControl, IDisposable
{
    /// <summary>KVM slots (RAM uses 0 and 1, the display 8): the flash, RAM from 1 MiB, then one per shadow segment.</summary>
    internal const uint RomSlot = 10, HighRamSlot = 11, FirstShadowSlot = 12;

    /// <summary>Below this, RAM as always; from here to 1 MiB the VGA window and the shadow segments.</summary>
    public const ulong VgaWindowStart = 0xA0000;

    private readonly KvmVm _vm;
    private readonly GuestMemory _memory;
    private readonly FirmwareImage _image;
    private readonly MappedRegion _rom;
    private readonly ShadowRamMode[] _modes = new ShadowRamMode[ShadowRamSegments.Count];
    private readonly bool[] _mapped = new bool[ShadowRamSegments.Count]; // KVM refuses to delete a slot that is not there
    private readonly Lock _lock = new();
    private long _remapFailures;

    private BiosMemory(KvmVm vm, GuestMemory memory, FirmwareImage image, MappedRegion rom)
    {
        _vm = vm;
        _memory = memory;
        _image = image;
        _rom = rom;
    }

    /// <summary>Writes to the flash and write-protected shadow RAM that were dropped, and reads of empty segments.</summary>
    public IgnoredAccesses Ignored { get; } = new();

    /// <summary>Segment remaps KVM refused (should be none; counted, never thrown at the guest).</summary>
    public long RemapFailures => Interlocked.Read(ref _remapFailures);

    /// <summary>Each segment's mode now (segment 0 is 0xF0000–0xFFFFF).</summary>
    public ShadowRamMode Mode(int segment)
    {
        lock (_lock)
        {
            return _modes[segment];
        }
    }

    /// <summary>
    /// Copies the image into its own mapping and registers every slot: RAM (in place of the usual one-slot-per-region),
    /// the flash, and the shadow segments as after a reset (all on the bus).
    /// </summary>
    public static BiosMemory Map(KvmVm vm, GuestMemory memory, FirmwareImage image, IoBus mmio)
    {
        var rom = MappedRegion.MapAnonymous((nuint)image.Size, "BIOS flash");
        try
        {
            image.Bytes.Span.CopyTo(rom.AsSpan());
            var map = new BiosMemory(vm, memory, image, rom);
            map.RegisterRam();
            vm.SetUserMemoryRegion(RomSlot, image.GuestAddress, (ulong)image.Size, rom.Address, KvmVm.MemReadOnly);
            mmio.Register(image.GuestAddress, (ulong)image.Size, map.Ignored);
            mmio.Register(ShadowRamSegments.Start, ShadowRamSegments.End - ShadowRamSegments.Start, map.Ignored);
            for (int segment = 0; segment < ShadowRamSegments.Count; segment++)
            {
                map.Apply(segment, ShadowRamMode.Disabled);
            }

            return map;
        }
        catch
        {
            rom.Dispose();
            throw;
        }
    }

    public void SetMode(int segment, ShadowRamMode mode)
    {
        if ((uint)segment >= ShadowRamSegments.Count || !Enum.IsDefined(mode))
        {
            return;
        }

        lock (_lock)
        {
            if (_modes[segment] != mode)
            {
                Apply(segment, mode);
            }
        }
    }

    public void Dispose() => _rom.Dispose(); // after the VM, whose slots point at it, is gone

    /// <summary>RAM below 4 GiB around the hole at 0xA0000–0xFFFFF, and any RAM above 4 GiB as usual.</summary>
    private void RegisterRam()
    {
        var low = _memory.Regions[0];
        if (low.GuestAddress != 0 || low.Size <= MemoryLayout.HighMemoryStart)
        {
            throw new ArgumentException("A BIOS machine needs more than 1 MiB of RAM from address 0.");
        }

        _vm.SetUserMemoryRegion(0, 0, VgaWindowStart, low.HostAddress);
        _vm.SetUserMemoryRegion(HighRamSlot, MemoryLayout.HighMemoryStart, low.Size - MemoryLayout.HighMemoryStart,
            low.HostAddress + (nint)MemoryLayout.HighMemoryStart);
        for (int i = 1; i < _memory.Regions.Count; i++)
        {
            var region = _memory.Regions[i];
            _vm.SetUserMemoryRegion((uint)i, region.GuestAddress, region.Size, region.HostAddress);
        }
    }

    /// <summary>Replaces the segment's slot with what <paramref name="mode"/> decodes. The caller holds the lock (or owns the object).</summary>
    private void Apply(int segment, ShadowRamMode mode)
    {
        var (address, size) = ShadowRamSegments.Range(segment);
        uint slot = FirstShadowSlot + (uint)segment;
        nint ram = _memory.Regions[0].HostAddress + (nint)address;
        ulong legacyStart = ShadowRamSegments.End - (ulong)_image.LegacyWindowBytes;
        int error = _mapped[segment] ? _vm.TryRemoveUserMemoryRegion(slot) : 0;
        if (error == 0)
        {
            _mapped[segment] = false;
            nint host = mode switch
            {
                ShadowRamMode.ReadWrite or ShadowRamMode.WriteOnly or ShadowRamMode.ReadOnly => ram,
                // On the bus: the flash's legacy window where it reaches, nothing elsewhere.
                _ when address >= legacyStart => _rom.Address + (nint)((ulong)_image.Size - (ShadowRamSegments.End - address)),
                _ => 0,
            };
            uint flags = mode is ShadowRamMode.ReadWrite or ShadowRamMode.WriteOnly ? 0 : KvmVm.MemReadOnly;
            error = host == 0 ? 0 : _vm.TrySetUserMemoryRegion(slot, address, size, host, flags);
            _mapped[segment] = host != 0 && error == 0;
        }

        if (error != 0)
        {
            Interlocked.Increment(ref _remapFailures);
        }

        _modes[segment] = mode;
    }

    /// <summary>Accesses to ROM and to segments with nothing behind them: reads as all ones, writes dropped, both counted.</summary>
    internal sealed class IgnoredAccesses : IBusDevice
    {
        private long _reads;
        private long _writes;

        public long Reads => Interlocked.Read(ref _reads);

        public long Writes => Interlocked.Read(ref _writes);

        public void Read(ulong offset, Span<byte> data)
        {
            Interlocked.Increment(ref _reads);
            data.Fill(0xFF);
        }

        public void Write(ulong offset, ReadOnlySpan<byte> data) => Interlocked.Increment(ref _writes);
    }
}
