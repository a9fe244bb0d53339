namespace Platform.Devices.Virtio.Block;

/// <summary>How the host caches a disk image: QEMU's cache modes, the two we support.</summary>
public enum DiskCacheMode
{
    /// <summary>Writes go to the host page cache; the guest's flush makes them durable (fsync).</summary>
    Writeback,

    /// <summary>
    /// The host page cache is bypassed. Through the managed backend this opens the image write-through (O_SYNC), so
    /// each write is durable before it is acknowledged; the engine may hand in an O_DIRECT handle instead.
    /// </summary>
    None,
}

/// <summary>The controller a disk sits on, as QEMU's <c>-drive if=</c>.</summary>
public enum DiskInterface
{
    /// <summary>A virtio-blk PCI function of its own.</summary>
    Virtio,

    /// <summary>A SATA hard disk on a port of the AHCI controller.</summary>
    Sata,
}

/// <summary>A <c>--disk path[,ro][,bus=virtio|sata][,cache=writeback|none][,serial=ID][,format=raw|qcow2][,bps=N][,iops=N]</c> argument.</summary>
/// <param name="Format">The image's format; null detects it (qcow2 by its magic, else raw: see <see cref="DiskImages"/>).</param>
/// <param name="BytesPerSecond">The disk's bandwidth limit, reads and writes together (<see cref="IoThrottle"/>); null: none.</param>
/// <param name="Iops">The disk's request-rate limit; null: none.</param>
/// <param name="Bus">virtio-blk, or a SATA disk on the AHCI controller; the image opens the same way on either.</param>
public sealed record DiskOptions(
    string Path, bool ReadOnly = false, DiskCacheMode Cache = DiskCacheMode.Writeback, string? Serial = null, DiskImageFormat? Format = null,
    long? BytesPerSecond = null, int? Iops = null, DiskInterface Bus = DiskInterface.Virtio)
{
    /// <summary>The throttle these options ask for, or null when they set no limit.</summary>
    public IoThrottle? CreateThrottle() => BytesPerSecond is null && Iops is null ? null : new IoThrottle(BytesPerSecond, Iops);

    /// <summary>Parses the command-line form; throws <see cref="FormatException"/> naming the bad part.</summary>
    public static DiskOptions Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string[] parts = spec.Split(',');
        if (parts[0].Length == 0)
        {
            throw new FormatException($"--disk {spec}: the image path comes first, e.g. --disk disk.img,ro");
        }

        var options = new DiskOptions(parts[0]);
        foreach (string part in parts.Skip(1))
        {
            options = part switch
            {
                "ro" => options with { ReadOnly = true },
                "rw" => options with { ReadOnly = false },
                "cache=writeback" => options with { Cache = DiskCacheMode.Writeback },
                "cache=none" => options with { Cache = DiskCacheMode.None },
                "format=raw" => options with { Format = DiskImageFormat.Raw },
                "format=qcow2" => options with { Format = DiskImageFormat.Qcow2 },
                "bus=virtio" => options with { Bus = DiskInterface.Virtio },
                "bus=sata" => options with { Bus = DiskInterface.Sata },
                _ when part.StartsWith("bps=", StringComparison.Ordinal) && long.TryParse(part.AsSpan(4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long bps) =>
                    options with { BytesPerSecond = bps },
                _ when part.StartsWith("iops=", StringComparison.Ordinal) && int.TryParse(part.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int iops) =>
                    options with { Iops = iops },
                _ when part.StartsWith("serial=", StringComparison.Ordinal) && part.Length > 7 && part.Length <= 7 + VirtioBlock.IdLength =>
                    options with { Serial = part[7..] },
                _ => throw new FormatException(
                    $"--disk {spec}: unknown option '{part}' (expected ro, bus=virtio, bus=sata, cache=writeback, cache=none, format=raw, format=qcow2, bps=BYTES-PER-SECOND, iops=REQUESTS-PER-SECOND or serial=ID of up to {VirtioBlock.IdLength} characters)"),
            };
        }

        return options;
    }
}
