namespace Platform.Engine.Boot;

/// <summary>How the BSP enters the loaded kernel.</summary>
public enum EntryMode
{
    /// <summary>PVH: 32-bit protected mode, paging off, EBX = <c>hvm_start_info</c>.</summary>
    Pvh32,
    /// <summary>Linux 64-bit boot protocol: long mode with identity page tables, RSI = zero page.</summary>
    Linux64,
}

/// <summary>What a loader placed in memory and how to start it.</summary>
public sealed record BootPlan(EntryMode Mode, ulong EntryPoint, ulong BootInfoAddress, ulong KernelEnd);
