using System.Globalization;
using System.Text.RegularExpressions;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine.Pci;

/// <summary>
/// A disk's bandwidth and request limits, measured as a guest sees them: the blk test guest's bench mode times its own
/// requests on its TSC and prints the rate, which must be the limit to within 10 %.
/// </summary>
public sealed partial class VirtioBlockThrottleGuestTests(ITestOutputHelper output)
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(120);

    private static MachineInstance Boot(SerialCapture serial, string commandLine, DiskOptions disk)
    {
        var machine = MachineInstance.Create(new MachineConfig
        {
            KernelPath = TestGuests.Path("blk"),
            CommandLine = commandLine,
            MemoryBytes = 64ul << 20,
            Display = DisplayKind.None,
            Disks = [disk],
        }, serial);
        machine.Start();
        return machine;
    }

    [GeneratedRegex(@"bench (\w+) bs=(\d+) qd=(\d+) ops=(\d+) us=(\d+) iops=(\d+) kBps=(\d+)")]
    private static partial Regex BenchLine();

    private async Task<(long Iops, long KBps, long Ops)> BenchAsync(string commandLine, DiskOptions disk)
    {
        var serial = new SerialCapture();
        using var machine = Boot(serial, commandLine, disk);
        string text = await serial.WaitForAsync("PLATFORM-TEST blk PASS", GuestTimeout);
        var match = BenchLine().Match(text);
        match.Success.Should().BeTrue(text);
        output.WriteLine(match.Value);
        return (long.Parse(match.Groups[6].Value, CultureInfo.InvariantCulture), long.Parse(match.Groups[7].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups[4].Value, CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("seqread")]
    [InlineData("seqwrite")]
    public async Task A_bandwidth_limit_holds_within_ten_percent(string bench)
    {
        using var image = new DiskImage(16 << 20);
        const long Limit = 1 << 20; // 1 MiB/s: 64 KiB requests, 16 a second
        var (_, kBps, _) = await BenchAsync($"mode=bench bench={bench} bs=65536 qd=4 mib=4", new DiskOptions(image.Path, BytesPerSecond: Limit));
        double bytesPerSecond = kBps * 1024.0;
        bytesPerSecond.Should().BeInRange(Limit * 0.9, Limit * 1.1, "the guest measured {0} KiB/s against a limit of {1} KiB/s", kBps, Limit / 1024);
    }

    [Fact]
    public async Task A_request_limit_holds_within_ten_percent()
    {
        using var image = new DiskImage(16 << 20);
        const int Limit = 100;
        var (iops, _, _) = await BenchAsync("mode=bench bench=randread bs=4096 qd=4 ops=300", new DiskOptions(image.Path, Iops: Limit));
        iops.Should().BeInRange((long)(Limit * 0.9), (long)(Limit * 1.1));
    }
}
