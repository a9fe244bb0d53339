namespace Platform.Web.Services.History;

/// <summary>One round-robin archive: a ring of <see cref="Slots"/> buckets, each <see cref="Step"/> wide.</summary>
/// <param name="Step">The width of one bucket; the archive's resolution.</param>
/// <param name="Slots">How many buckets the ring holds; Step × Slots is how far back it reaches.</param>
public sealed record HistoryArchive(TimeSpan Step, int Slots)
{
    public TimeSpan Span => Step * Slots;

    public long StepSeconds => (long)Step.TotalSeconds;
}

/// <summary>
/// The three archives every history file holds, at decreasing resolution (Proxmox's and RRDtool's scheme): every
/// sample for a day, minutes for a week, half hours for a year. A sample goes into all three at once; the coarser
/// ones keep the mean of the samples in their bucket.
/// </summary>
public static class HistoryArchives
{
    /// <summary>How often the recorder samples; the finest archive's step.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(10);

    public static readonly IReadOnlyList<HistoryArchive> All =
    [
        new(SampleInterval, 8_640),              // 10 s for a day
        new(TimeSpan.FromMinutes(1), 10_080),    // 1 min for a week
        new(TimeSpan.FromMinutes(30), 17_520),   // 30 min for a year (365 days)
    ];

    /// <summary>Slots in a file, all archives together.</summary>
    public static int TotalSlots => All.Sum(a => a.Slots);
}
