namespace Platform.Devices.Pci;

/// <summary>Where a BAR currently decodes in guest physical memory: [Address, Address + Size).</summary>
public readonly record struct PciBarMapping(ulong Address, ulong Size)
{
    public ulong End => Address + Size;

    public bool Contains(ulong address) => address >= Address && address - Address < Size;
}

/// <summary>A register inside a BAR: the engine turns it into an address once it knows where the BAR sits.</summary>
public readonly record struct PciBarLocation(int BarIndex, ulong Offset);
