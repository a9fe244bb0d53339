using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Devices.Tests.Virtio.Block.Qcow2;

// The image is written through (nothing is buffered in the process), so killing the VMM is exactly "no more writes
// reach the file". These tests stop the writes at every point of a run and check that the image is consistent
// (qemu-img check: no corruption; leaked clusters are allowed) and that every acknowledged write is in it.
public sealed class Qcow2CrashConsistencyTests : IDisposable
{
    private readonly ImageFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("cluster_size=4096", true)]
    [InlineData("cluster_size=512,refcount_bits=64", false)] // refcount blocks and a table growth on the way
    public void A_kill_at_any_write_leaves_a_consistent_image_holding_every_acknowledged_write(string options, bool backed)
    {
        const int Size = 3 << 20;
        byte[] initial = new byte[Size];
        if (backed)
        {
            new Random(5).NextBytes(initial.AsSpan(0, 2 << 20));
            File.WriteAllBytes(_dir["base.raw"], initial.AsSpan(0, 2 << 20).ToArray());
        }

        string pristine = _dir["pristine.qcow2"];
        QemuImg.Create(pristine, $"{Size}", options, backing: backed ? "base.raw" : null, backingFormat: "raw");
        var operations = Operations(Size, seed: options.Length);

        long totalWrites = Run(pristine, _dir["full.qcow2"], operations, initial, writeBudget: -1).Writes;
        totalWrites.Should().BeGreaterThan(50);
        int step = (int)Math.Max(1, totalWrites / 60);
        for (long budget = 0; budget <= totalWrites; budget += step)
        {
            string image = _dir[$"crash-{budget}.qcow2"];
            var (model, failedRange, _) = Run(pristine, image, operations, initial, budget);
            var (code, corruptions, _, output) = QemuImg.Check(image);
            corruptions.Should().Be(0, $"killed after {budget} writes: {output}");
            code.Should().BeOneOf([0, 3], $"killed after {budget} writes, only leaks are allowed: {output}");

            byte[] contents = QemuImg.ContentsAsRaw(image);
            if (failedRange is var (start, length))
            {
                // The write the kill interrupted may hold old or new data; everything else is exact.
                contents.AsSpan((int)start, (int)length).CopyTo(model.AsSpan((int)start, (int)length));
            }

            Qcow2BlockBackendReadTests.FirstDifference(contents, model).Should().Be(Size, $"killed after {budget} writes");
            File.Delete(image);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Many_concurrent_writes_into_shared_clusters_lose_nothing(bool backed)
    {
        const int Size = 2 << 20, Threads = 16;
        byte[] model = new byte[Size];
        string image = _dir["c.qcow2"];
        if (backed)
        {
            new Random(9).NextBytes(model);
            File.WriteAllBytes(_dir["base.raw"], model);
        }

        QemuImg.Create(image, $"{Size}", "cluster_size=65536", backing: backed ? "base.raw" : null, backingFormat: "raw");
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            // Thread t owns every sector s with s % Threads == t: sixteen threads race to allocate each cluster.
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
            {
                var random = new Random(t);
                int[] sectors = [.. Enumerable.Range(0, Size / 512).Where(s => s % Threads == t).OrderBy(_ => random.Next())];
                byte[] sector = new byte[512];
                byte[] probe = new byte[4096];
                foreach (int s in sectors)
                {
                    random.NextBytes(sector);
                    sector.CopyTo(model, s * 512); // each thread writes only its own bytes of the model
                    if (!disk.Write(s * 512L, sector))
                    {
                        failures.Enqueue($"write {s}: {disk.LastError}");
                    }

                    if (!disk.Read(random.Next(0, (Size - 4096) / 512) * 512L, probe))
                    {
                        failures.Enqueue($"read: {disk.LastError}");
                    }
                }
            });
            failures.Should().BeEmpty();
            byte[] read = new byte[Size];
            disk.Read(0, read).Should().BeTrue();
            Qcow2BlockBackendReadTests.FirstDifference(read, model).Should().Be(Size);
            disk.AllocatedClusters.Should().Be(Size / 65536, "each cluster was allocated once, whoever won the race");
        }

        QemuImg.CheckClean(image);
        Qcow2BlockBackendReadTests.FirstDifference(QemuImg.ContentsAsRaw(image), model).Should().Be(Size);
    }

    private sealed record Operation(int Kind, long Offset, byte[] Data);

    private static List<Operation> Operations(int size, int seed)
    {
        var random = new Random(seed);
        var operations = new List<Operation>();
        for (int i = 0; i < 120; i++)
        {
            int sectors = random.Next(1, i % 7 == 0 ? 400 : 24);
            long offset = (long)random.Next(0, (size / 512) - sectors) * 512;
            byte[] data = new byte[sectors * 512];
            random.NextBytes(data);
            operations.Add(new Operation(i % 11 == 5 ? 1 : i % 13 == 7 ? 2 : 0, offset, data));
        }

        return operations;
    }

    /// <summary>Copies the pristine image, runs the operations until the first failure, and returns the model of what was acknowledged.</summary>
    private static (byte[] Model, (long, long)? Failed, long Writes) Run(string pristine, string image, List<Operation> operations, byte[] initial, long writeBudget)
    {
        File.Copy(pristine, image, overwrite: true);
        byte[] model = (byte[])initial.Clone();
        using var disk = Qcow2BlockBackendReadTests.Open(image);
        disk.File.WritesLeft = writeBudget;
        foreach (var op in operations)
        {
            bool ok = op.Kind switch
            {
                1 => disk.WriteZeroes(op.Offset, op.Data.Length, mayUnmap: true),
                2 => disk.Discard(op.Offset, op.Data.Length),
                _ => disk.Write(op.Offset, op.Data),
            };
            if (!ok)
            {
                writeBudget.Should().BeGreaterThanOrEqualTo(0, $"nothing fails without an injected kill ({disk.LastError})");
                return (model, (op.Offset, op.Data.Length), disk.File.WritesDone);
            }

            switch (op.Kind)
            {
                case 1:
                    model.AsSpan((int)op.Offset, op.Data.Length).Clear();
                    break;
                case 2:
                    disk.Read(op.Offset, model.AsSpan((int)op.Offset, op.Data.Length)).Should().BeTrue(); // unspecified: what it reads now
                    break;
                default:
                    op.Data.CopyTo(model, op.Offset);
                    break;
            }
        }

        return (model, null, disk.File.WritesDone);
    }
}
