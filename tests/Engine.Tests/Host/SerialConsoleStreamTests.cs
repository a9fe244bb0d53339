using System.Text;
using Platform.Engine.Host;

namespace Platform.Engine.Tests.Host;

public sealed class SerialConsoleStreamTests
{
    private static async Task<string> ReadAvailableAsync(SerialConsoleReader reader, int max = 4096)
    {
        byte[] buffer = new byte[max];
        int read = await reader.ReadAsync(buffer, TestContext.Current.CancellationToken);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    [Fact]
    public async Task A_new_reader_replays_the_scrollback_and_a_live_reader_does_not()
    {
        var console = new SerialConsoleStream(64);
        console.Write("boot log\n"u8);
        var replaying = console.OpenReader(replayScrollback: true);
        var live = console.OpenReader(replayScrollback: false);
        console.Write("login: "u8);

        (await ReadAvailableAsync(replaying)).Should().Be("boot log\nlogin: ");
        (await ReadAvailableAsync(live)).Should().Be("login: ");
    }

    [Fact]
    public async Task A_reader_that_falls_a_whole_ring_behind_skips_ahead_and_counts_what_it_missed()
    {
        var console = new SerialConsoleStream(16);
        var reader = console.OpenReader(replayScrollback: true);
        console.Write(Encoding.ASCII.GetBytes("0123456789abcdefGHIJ"));

        (await ReadAvailableAsync(reader)).Should().Be("456789abcdefGHIJ");
        reader.SkippedBytes.Should().Be(4);
        console.TotalWritten.Should().Be(20);
    }

    [Fact]
    public async Task Wrapped_output_comes_back_in_order_across_the_ring_edge()
    {
        var console = new SerialConsoleStream(10);
        var reader = console.OpenReader(replayScrollback: false);
        console.Write("abcdefgh"u8);
        (await ReadAvailableAsync(reader)).Should().Be("abcdefgh");
        foreach (byte b in "ijklmn"u8)
        {
            console.WriteByte(b);
        }

        (await ReadAvailableAsync(reader)).Should().Be("ijklmn");
    }

    [Fact]
    public async Task A_waiting_reader_wakes_on_output_and_reads_zero_after_completion()
    {
        var console = new SerialConsoleStream(64);
        var reader = console.OpenReader(replayScrollback: true);
        var pending = ReadAvailableAsync(reader);
        pending.IsCompleted.Should().BeFalse();

        console.WriteByte((byte)'x');
        (await pending.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Should().Be("x");

        console.Write("tail"u8);
        console.Complete();
        (await ReadAvailableAsync(reader)).Should().Be("tail");
        (await ReadAvailableAsync(reader)).Should().BeEmpty();
    }
}
