namespace Platform.Web.Data;

/// <summary>A stored VM definition: what to boot and with how much. Runtime state lives with the supervisor.</summary>
public sealed class VirtualMachine
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public required string Name { get; set; }

    public string? Description { get; set; }

    public int VcpuCount { get; set; } = 1;

    public int MemoryMiB { get; set; } = 512;

    /// <summary>Kernel image (bzImage or ELF with a PVH note) for direct kernel boot.</summary>
    public string? KernelPath { get; set; }

    public string? InitrdPath { get; set; }

    public string? CommandLine { get; set; }

    public bool Autostart { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Changes on every save, so two people editing one VM are told instead of silently merged.</summary>
    public Guid ConcurrencyStamp { get; set; } = Guid.NewGuid();
}
