namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>
/// The host clusters that hold the active metadata (header, L1 table, refcount table and blocks, L2 tables, snapshot
/// table and snapshot L1 tables): an L2 entry that points at one of them is corruption, and a data write there would
/// destroy the image, so every L2 table is checked against this set when it is loaded.
/// </summary>
/// <remarks>
/// Readers (L2 loads on I/O threads) never lock: they search an immutable snapshot. New metadata is always allocated
/// at the end of the file, past everything already listed, so adding usually appends in place behind the published
/// count; removing (a freed refcount table or L2 table, which is rare) rebuilds the array.
/// </remarks>
internal sealed class Qcow2MetadataMap
{
    private readonly Lock _writeLock = new();
    private volatile Snapshot _current;

    /// <summary>Sorted, distinct cluster indexes.</summary>
    public Qcow2MetadataMap(IEnumerable<long> clusters)
    {
        long[] sorted = [.. clusters.Distinct().Order()];
        _current = new Snapshot(sorted.Length == 0 ? new long[16] : sorted, sorted.Length);
    }

    public int Count => _current.Count;

    public bool Contains(long cluster)
    {
        var snapshot = _current;
        return Array.BinarySearch(snapshot.Clusters, 0, snapshot.Count, cluster) >= 0;
    }

    public void Add(long firstCluster, long count)
    {
        lock (_writeLock)
        {
            var snapshot = _current;
            long[] clusters = snapshot.Clusters;
            int n = snapshot.Count;
            if (n == 0 || firstCluster > clusters[n - 1])
            {
                if (n + count > clusters.Length)
                {
                    long[] bigger = new long[Math.Max(clusters.Length * 2, n + count)];
                    Array.Copy(clusters, bigger, n);
                    clusters = bigger;
                }

                for (long i = 0; i < count; i++)
                {
                    clusters[n + i] = firstCluster + i; // past the published count: no reader looks here yet
                }

                _current = new Snapshot(clusters, n + (int)count);
                return;
            }

            _current = Rebuild(snapshot, c => true, Enumerable.Range(0, (int)count).Select(i => firstCluster + i));
        }
    }

    public void Remove(long firstCluster, long count)
    {
        lock (_writeLock)
        {
            _current = Rebuild(_current, c => c < firstCluster || c >= firstCluster + count, []);
        }
    }

    private static Snapshot Rebuild(Snapshot snapshot, Func<long, bool> keep, IEnumerable<long> add)
    {
        long[] clusters = [.. snapshot.Clusters.Take(snapshot.Count).Where(keep).Concat(add).Distinct().Order()];
        long[] storage = new long[Math.Max(16, clusters.Length * 2)];
        Array.Copy(clusters, storage, clusters.Length);
        return new Snapshot(storage, clusters.Length);
    }

    private sealed record Snapshot(long[] Clusters, int Count);
}
