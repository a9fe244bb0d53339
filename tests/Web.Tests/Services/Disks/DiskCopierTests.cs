using Platform.Web.Data;
using Platform.Web.Services.Disks;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Disks;

/// <summary>Full copies checked with qemu-img: the same contents (compare), no backing file, still sparse; cancel leaves nothing.</summary>
public sealed class DiskCopierTests : IDisposable
{
    private const long MiB = 1L << 20;
    private readonly string _folder = Directory.CreateTempSubdirectory("platform-copy-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Path(string name) => System.IO.Path.Combine(_folder, name);

    /// <summary>A raw base with data at 1 MiB, and a qcow2 overlay over it that the "guest" wrote at 0 and 40 MiB.</summary>
    private string LinkedCloneChain()
    {
        QemuTools.Run("qemu-img", "create", "-q", "-f", "raw", Path("base.img"), "64M").ExitCode.Should().Be(0);
        QemuTools.Run("qemu-io", "-f", "raw", "-c", "write -P 7 1M 128k", Path("base.img")).ExitCode.Should().Be(0);
        QemuTools.Run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.img", "-F", "raw", Path("overlay.qcow2")).ExitCode.Should().Be(0);
        QemuTools.WritePattern(Path("overlay.qcow2"), 0, 0x33);
        QemuTools.WritePattern(Path("overlay.qcow2"), 40 * MiB, 0x44);
        return Path("overlay.qcow2");
    }

    [Fact]
    public void A_linked_clone_comes_out_whole_flat_and_sparse_with_progress_to_the_end()
    {
        string source = LinkedCloneChain();
        var reported = new List<long>();

        DiskCopier.Copy(source, ImageFormat.Qcow2, Path("copy.qcow2"), new SyncProgress(reported.Add), CancellationToken.None);

        var (code, output) = QemuTools.Run("qemu-img", "compare", source, Path("copy.qcow2"));
        code.Should().Be(0, $"the copy reads as the chain does: {output}");
        QemuTools.CheckClean(Path("copy.qcow2"));
        var info = QemuTools.Run("qemu-img", "info", Path("copy.qcow2")).Output;
        info.Should().NotContain("backing file", "the copy stands alone");
        var (format, virtualSize, actual) = QemuTools.Info(Path("copy.qcow2"));
        (format, virtualSize).Should().Be(("qcow2", 64 * MiB));
        actual.Should().BeLessThan(4 * MiB, "the zeros between the data were not written");
        reported.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        reported[^1].Should().Be(64 * MiB);
        reported.Should().HaveCount(64, "one report a 1 MiB chunk");
    }

    [Fact]
    public void A_cancel_leaves_nothing_behind()
    {
        string source = LinkedCloneChain();
        using var cancel = new CancellationTokenSource();
        var before = Directory.GetFileSystemEntries(_folder).ToHashSet();

        var copy = () => DiskCopier.Copy(source, ImageFormat.Qcow2, Path("copy.qcow2"), new SyncProgress(bytes =>
        {
            if (bytes >= 8 * MiB)
            {
                cancel.Cancel();
            }
        }), cancel.Token);

        copy.Should().Throw<OperationCanceledException>();
        Directory.GetFileSystemEntries(_folder).Should().BeEquivalentTo(before, "neither the copy nor its temporary file is left");
    }

    [Fact]
    public void A_copy_never_replaces_a_file_and_a_missing_source_says_so()
    {
        string source = LinkedCloneChain();
        File.WriteAllText(Path("taken.qcow2"), "mine");

        var over = () => DiskCopier.Copy(source, ImageFormat.Qcow2, Path("taken.qcow2"), null, CancellationToken.None);
        over.Should().Throw<IOException>().WithMessage("*exists already*");
        File.ReadAllText(Path("taken.qcow2")).Should().Be("mine");

        var missing = () => DiskCopier.Copy(Path("none.qcow2"), ImageFormat.Qcow2, Path("out.qcow2"), null, CancellationToken.None);
        missing.Should().Throw<IOException>();
        File.Exists(Path("out.qcow2")).Should().BeFalse();
    }

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
