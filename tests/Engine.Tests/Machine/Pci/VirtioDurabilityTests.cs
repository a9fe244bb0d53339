using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine.Pci;

// "No acknowledged write may be lost if the VMM is killed afterwards": the guest writes and flushes, says "acked N",
// and the platform-vmm process dies by SIGKILL in the middle of the stream.
public sealed partial class VirtioDurabilityTests
{
    private const ulong Seed = 0xD0;
    private const int SectorsPerWrite = 8;

    [Theory]
    [InlineData("raw")]
    [InlineData("qcow2")]
    public async Task Every_write_the_guest_saw_acknowledged_is_in_the_image_after_SIGKILL(string format)
    {
        using var disk = new DiskImage(16 << 20);
        if (format == "qcow2")
        {
            // Every write allocates clusters here (refcounts, L2 entries), so a kill lands in the middle of metadata updates.
            File.Delete(disk.Path);
            Platform.Devices.Virtio.Block.Qcow2.Qcow2Creator.Create(disk.Path, 16 << 20, clusterBits: 12);
        }

        var start = new ProcessStartInfo(VmmProcess.ProgramPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string arg in new[]
        {
            "--kernel", TestGuests.Path("blk"), "--memory", "64M", "--disk", disk.Path,
            "--append", $"mode=durable writes=4000 count={SectorsPerWrite} seed={Seed}",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var lines = new List<string>();
        var enoughAcked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var vmm = Process.Start(start)!;
        vmm.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (lines)
            {
                lines.Add(e.Data);
                if (e.Data.StartsWith("acked 40", StringComparison.Ordinal) || e.Data.Contains("blk FAIL", StringComparison.Ordinal))
                {
                    enoughAcked.TrySetResult();
                }
            }
        };
        vmm.BeginOutputReadLine();
        try
        {
            await enoughAcked.Task.WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        }
        finally
        {
            vmm.Kill(); // SIGKILL on Linux: no chance to flush or close anything
            await vmm.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        vmm.ExitCode.Should().Be(128 + 9, "the VMM died by SIGKILL");
        int lastAcked;
        lock (lines)
        {
            lines.Should().NotContain(l => l.Contains("blk FAIL", StringComparison.Ordinal));
            lines.Should().NotContain(l => l.Contains("blk PASS", StringComparison.Ordinal), "the guest was still writing when it died");
            lastAcked = lines.Select(l => AckedLine().Match(l)).Where(m => m.Success)
                .Max(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        lastAcked.Should().BeGreaterThanOrEqualTo(40);
        byte[] contents;
        if (format == "qcow2")
        {
            var check = QemuImg.Check(disk.Path);
            check.Corruptions.Should().Be(0, check.Output);
            check.ExitCode.Should().BeOneOf([0, 3], "a kill may leak the clusters of the write in progress, nothing worse: " + check.Output);
            contents = QemuImg.ContentsAsRaw(disk.Path);
        }
        else
        {
            contents = File.ReadAllBytes(disk.Path);
        }

        for (int write = 0; write <= lastAcked; write++)
        {
            DiskImage.FirstSectorWithoutPattern(contents.AsSpan(write * SectorsPerWrite * DiskImage.SectorSize, SectorsPerWrite * DiskImage.SectorSize),
                Seed, (long)write * SectorsPerWrite).Should().Be(-1, $"write {write} was acknowledged before the kill");
        }
    }

    [GeneratedRegex(@"^acked (\d+)$")]
    private static partial Regex AckedLine();
}
