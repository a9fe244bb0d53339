namespace Platform.Devices.Virtio.Block;

/// <summary>What a backend knows about the image file behind it, for <c>--check</c>, <c>query-stats</c> and the dashboard.</summary>
public interface IDiskImage
{
    DiskImageFormat Format { get; }

    /// <summary>The image, its format and sizes, and its backing chain.</summary>
    DiskImageDescription Describe();

    /// <summary>Adds the format's own counters (allocations, copy-on-writes, cache hits…) for <c>query-stats</c>.</summary>
    void AddCounters(IDictionary<string, long> counters);
}

/// <summary>One image of a chain: the top image, whose <see cref="Backing"/> is the next one down.</summary>
/// <param name="Path">The file, as opened.</param>
/// <param name="VirtualSize">Bytes the guest sees.</param>
/// <param name="FileBytes">Bytes the file is long now (for qcow2, what its clusters take, holes included).</param>
public sealed record DiskImageDescription(string Path, DiskImageFormat Format, long VirtualSize, long FileBytes)
{
    public bool ReadOnly { get; init; }

    /// <summary>qcow2: 2 or 3.</summary>
    public int? Version { get; init; }

    public int? ClusterSize { get; init; }

    /// <summary>qcow2: internal snapshots in the image (read through the active table, never applied).</summary>
    public int Snapshots { get; init; }

    /// <summary>The backing file name as the image stores it (relative names resolve against the image's folder).</summary>
    public string? BackingName { get; init; }

    public DiskImageDescription? Backing { get; init; }

    /// <summary>The chain from this image down, as lines for people.</summary>
    public IEnumerable<string> Lines()
    {
        for (var image = this; image is not null; image = image.Backing)
        {
            string what = image.Format == DiskImageFormat.Qcow2
                ? $"qcow2 v{image.Version}, cluster {image.ClusterSize / 1024} KiB{(image.Snapshots > 0 ? $", {image.Snapshots} internal snapshot(s)" : "")}"
                : "raw";
            yield return $"{(image == this ? "" : "backing: ")}{image.Path}: {what}, virtual size {Bytes(image.VirtualSize)}, file {Bytes(image.FileBytes)}{(image.ReadOnly ? ", read-only" : "")}";
        }
    }

    public static string Bytes(long bytes) =>
        bytes >= 1L << 30 && bytes % (1L << 20) == 0 ? $"{bytes / (double)(1L << 30):0.##} GiB ({bytes} bytes)"
        : bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):0.##} MiB ({bytes} bytes)"
        : $"{bytes} bytes";
}
