using Platform.Devices.Tests.Virtio.Block.Qcow2;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Images;
using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Devices.Tests.Virtio.Block.Images;

// Nothing is buffered in the process, so stopping the writes after N of them is exactly a kill at that point
// (Qcow2CrashConsistencyTests does the same for guest writes). After every prefix of a grow or a snapshot operation
// the image must be the old one or the new one — same snapshot list, same contents, same size — and qemu-img must find
// no corruption it cannot repair: leaked clusters are allowed, and so is a COPIED flag that disagrees with a refcount
// in the window between the two writes that change them (both directions are safe: see the Snapshots part of the
// backend). After repair, qemu-img check is clean.
public sealed class Qcow2MaintenanceCrashTests : IDisposable
{
    private const int MiB = 1 << 20;
    private readonly ImageFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Operations => ["create", "revert", "delete", "grow"];

    [Theory]
    [MemberData(nameof(Operations))]
    public void A_kill_at_any_write_leaves_the_old_image_or_the_new_one(string operation)
    {
        string pristine = _dir["pristine.qcow2"];
        QemuImg.Create(pristine, $"{4 * MiB}", "cluster_size=4096");
        QemuImg.Io(pristine, "qcow2", "write -P 0x11 0 1M");
        QemuImg.Img("snapshot", "-c", "old", pristine);
        QemuImg.Io(pristine, "qcow2", "write -P 0x22 512k 1M", "write -P 0x23 3M 128k");

        var oldState = State(pristine);
        string complete = _dir["complete.qcow2"];
        File.Copy(pristine, complete);
        long writes = Run(complete, operation, writeBudget: -1);
        var newState = State(complete);
        newState.Should().NotBe(oldState);
        writes.Should().BeGreaterThan(3);

        for (long budget = 0; budget < writes; budget++)
        {
            string image = _dir[$"kill-{budget}.qcow2"];
            File.Copy(pristine, image);
            Run(image, operation, budget);

            var (code, corruptions, _, output) = QemuImg.Check(image);
            var state = State(image);
            state.Should().Match<ImageState>(s => s == oldState || s == newState, $"killed after {budget} of {writes} writes");
            if (corruptions > 0)
            {
                output.Should().MatchRegex("OFLAG_COPIED", $"killed after {budget} writes, the only inconsistency allowed is a COPIED flag: {output}");
                QemuImg.Img("check", "-q", "-r", "all", image);
            }
            else
            {
                code.Should().BeOneOf([0, 3], $"killed after {budget} writes: {output}");
            }

            QemuImg.Img("check", "-q", "-r", "leaks", image);
            QemuImg.CheckClean(image);
            State(image).Should().Be(state, "repairing leaks changes nothing the guest or a user sees");
            File.Delete(image);
        }
    }

    /// <summary>Runs the operation on an open image whose writes stop after <paramref name="writeBudget"/>; returns the writes it made.</summary>
    private static long Run(string image, string operation, long writeBudget)
    {
        using var disk = Qcow2BlockBackendReadTests.Open(image);
        disk.File.WritesLeft = writeBudget;
        try
        {
            switch (operation)
            {
                case "create": disk.CreateSnapshot("new", DateTimeOffset.UnixEpoch); break;
                case "revert": disk.RevertToSnapshot("old"); break;
                case "delete": disk.DeleteSnapshot("old"); break;
                default: disk.Grow(64 * MiB); break; // past the L1 table's 2 MiB entries: a new table
            }
        }
        catch (IOException) when (writeBudget >= 0)
        {
            // the simulated kill
        }

        return disk.File.WritesDone;
    }

    private static ImageState State(string image) => new(
        string.Join(",", Qcow2Snapshots.List(image).Select(s => $"{s.Id}:{s.Name}")),
        DiskImages.Inspect(image).VirtualSizeBytes,
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(QemuImg.ContentsAsRaw(image))));

    private sealed record ImageState(string Snapshots, long Size, string Contents);
}
