namespace Platform.Web.Services.History;

/// <summary>One series a history file keeps.</summary>
/// <param name="Name">Its name in the API (snake_case, as the control protocol's counters).</param>
/// <param name="Unit">percent, bytes, bytes/s, ops/s, packets/s, exits/s, threads or vms.</param>
/// <param name="Title">What a chart calls it (short: it is the tooltip's title too).</param>
public sealed record HistorySeries(string Name, string Unit, string Title);

/// <summary>The series of a VM's and of the host's history, in the order their values are stored.</summary>
public static class HistorySeriesSets
{
    public static readonly IReadOnlyList<HistorySeries> Vm =
    [
        new("cpu", "percent", "vCPU time"),
        new("memory_used", "bytes", "VMM resident memory"),
        new("memory_total", "bytes", "Guest memory"),
        new("disk_read_bytes", "bytes/s", "Disk read"),
        new("disk_write_bytes", "bytes/s", "Disk write"),
        new("disk_read_ops", "ops/s", "Disk read requests"),
        new("disk_write_ops", "ops/s", "Disk write requests"),
        new("net_rx_bytes", "bytes/s", "Network in"),
        new("net_tx_bytes", "bytes/s", "Network out"),
        new("net_rx_packets", "packets/s", "Packets in"),
        new("net_tx_packets", "packets/s", "Packets out"),
        new("exits", "exits/s", "vCPU exits to the VMM"),
    ];

    public static readonly IReadOnlyList<HistorySeries> Host =
    [
        new("cpu", "percent", "CPU busy"),
        new("memory_used", "bytes", "Memory in use"),
        new("memory_total", "bytes", "Memory"),
        new("load1", "threads", "Load, 1 min"),
        new("load5", "threads", "Load, 5 min"),
        new("load15", "threads", "Load, 15 min"),
        new("data_used", "bytes", "Data folder's file system, used"),
        new("data_free", "bytes", "Data folder's file system, free"),
        new("vms_running", "vms", "Running VMs"),
    ];

    public static int IndexOf(IReadOnlyList<HistorySeries> set, string name)
    {
        for (int i = 0; i < set.Count; i++)
        {
            if (set[i].Name == name)
            {
                return i;
            }
        }

        throw new ArgumentException($"No series named {name}.", nameof(name));
    }
}
