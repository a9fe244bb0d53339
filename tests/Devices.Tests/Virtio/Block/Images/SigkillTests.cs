using Platform.Devices.Tests.Virtio.Block.Qcow2;
using Platform.Devices.Virtio.Block.Images;

namespace Platform.Devices.Tests.Virtio.Block.Images;

// The real thing: a child process creating an image or taking a snapshot is killed with SIGKILL in the middle.
// Qcow2MaintenanceCrashTests covers every write point in-process; these prove nothing in the process (buffers,
// finally blocks) was needed for the guarantee.
public sealed class SigkillTests : IDisposable
{
    private const long MiB = 1 << 20;
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(60);
    private readonly ImageFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_creation_killed_half_way_leaves_no_image_under_the_name_and_the_name_stays_free()
    {
        string path = _dir["disk.qcow2"];
        using (var child = KilledChild.Start("create", path, $"{64 * MiB}", $"{32 * MiB}"))
        {
            KilledChild.KillWhenPaused(child, ChildTimeout).Should().BeTrue("full preallocation writes 64 MiB, the child pauses at 32");
        }

        File.Exists(path).Should().BeFalse("the name appears only with the whole image");
        Directory.GetFiles(_dir.Path).Should().ContainSingle().Which.Should().Contain(".disk.qcow2.creating-", "the hidden partial file is all that is left");

        DiskImageCreator.Create(path, 64 * MiB, Devices.Virtio.Block.DiskImageFormat.Qcow2, Preallocation.Off);
        QemuImg.CheckClean(path);
    }

    [Fact]
    public void A_snapshot_killed_at_any_of_several_points_leaves_the_image_without_it_or_with_it_whole()
    {
        string pristine = _dir["pristine.qcow2"];
        QemuImg.Create(pristine, $"{8 * MiB}", "cluster_size=4096");
        QemuImg.Io(pristine, "qcow2", "write -P 0x21 0 3M", "write -P 0x22 5M 1M");
        byte[] contents = QemuImg.ContentsAsRaw(pristine);

        long writes;
        string measured = _dir["measured.qcow2"];
        File.Copy(pristine, measured);
        using (var disk = Qcow2BlockBackendReadTests.Open(measured))
        {
            disk.CreateSnapshot("mid-flight", DateTimeOffset.UtcNow);
            writes = disk.File.WritesDone;
        }

        writes.Should().BeGreaterThan(6);
        int killed = 0, completed = 0, withSnapshot = 0;
        foreach (long pauseAt in Enumerable.Range(0, 6).Select(i => 1 + (i * (writes - 1) / 5)))
        {
            string image = _dir[$"at-{pauseAt}.qcow2"];
            File.Copy(pristine, image);
            using (var child = KilledChild.Start("snapshot", image, "mid-flight", $"{pauseAt}"))
            {
                if (KilledChild.KillWhenPaused(child, ChildTimeout))
                {
                    killed++;
                }
                else
                {
                    completed++;
                }
            }

            var names = Qcow2Snapshots.List(image).Select(s => s.Name).ToList();
            names.Should().BeSubsetOf(["mid-flight"]);
            var (_, corruptions, _, output) = QemuImg.Check(image);
            if (corruptions > 0)
            {
                output.Should().Contain("OFLAG_COPIED", "the only inconsistency a kill may leave is a COPIED flag between its two writes");
            }

            QemuImg.Img("check", "-q", "-r", "all", image);
            QemuImg.CheckClean(image);
            QemuImg.ContentsAsRaw(image).Should().Equal(contents);
            if (names.Count == 1)
            {
                withSnapshot++;
                QemuImg.Io(image, "qcow2", "write -P 0x99 0 8M");
                Qcow2Snapshots.Revert(image, "mid-flight");
                QemuImg.ContentsAsRaw(image).Should().Equal(contents, "a snapshot that made it is whole");
            }

            File.Delete(image);
        }

        withSnapshot.Should().BeInRange(1, 5, "kills before the header write leave the old image, kills after it the new one");
        killed.Should().Be(6, $"every pause point lies inside the operation's {writes} writes ({completed} completed first)");
    }
}
