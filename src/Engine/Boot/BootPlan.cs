namespace Platform.Engine.Boot;

/// <summary>How the BSP enters the loaded kernel.</summary>
public enum EntryMode
{
    /// <summary>PVH: 32-bit protected mode, paging off, EBX = <c>hvm_start_info</c>.</summary>
    Pvh32,
    /// <summary>Linux 64-bit boot protocol: long mode with identity page tables, RSI = zero page.</summary>
    Linux64,
    /// <summary>
    /// Firmware: the state a PC's processor comes out of reset in — real mode, CS selector 0xF000 with base 0xFFFF0000,
    /// IP 0xFFF0 — so the first instruction is the BIOS's at 0xFFFFFFF0.
    /// </summary>
    ResetVector,
}

/// <summary>What a loader placed in memory and how to start it.</summary>
public sealed record BootPlan(EntryMode Mode, ulong EntryPoint, ulong BootInfoAddress, ulong KernelEnd)
{
    /// <summary>The address a processor fetches first after reset.</summary>
    public const ulong ResetVectorAddress = 0xFFFF_FFF0;

    /// <summary>A firmware boot: nothing loaded, the BSP starts at the reset vector.</summary>
    public static BootPlan Firmware { get; } = new(EntryMode.ResetVector, ResetVectorAddress, 0, 0);
}
