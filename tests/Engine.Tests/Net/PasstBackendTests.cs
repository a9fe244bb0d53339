using Platform.Engine.Net;

namespace Platform.Engine.Tests.Net;

// The passt side misbehaving, with a shell script standing in for passt on descriptor 3: a stream that breaks the
// framing costs a restart each time, and a passt that keeps doing it is given up on, saying why; nothing throws.
public sealed class PasstBackendTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("passt-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string StandIn(string body)
    {
        string path = Path.Combine(_folder, "passt");
        File.WriteAllText(path, "#!/bin/bash\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static void PeekUntil(PasstBackend passt, Func<bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!done() && DateTime.UtcNow < deadline)
        {
            passt.PeekFrame();
            Thread.Sleep(10);
        }
    }

    [Theory]
    [InlineData(@"\x00\x00\x00\x00", "a frame length of 0 bytes")]
    [InlineData(@"\x00\x02\x00\x00", "a frame length of 131072 bytes")]
    public void A_stream_with_a_length_no_frame_has_is_restarted_and_given_up_on_when_it_keeps_coming(string prefix, string reason)
    {
        using var passt = PasstBackend.Start([], StandIn($"printf '{prefix}' >&3; exec sleep 30"));

        PeekUntil(passt, () => passt.LastError?.Contains("left without a network", StringComparison.Ordinal) == true);

        passt.Restarts.Should().Be(PasstBackend.MaxRestarts);
        passt.ProtocolErrors.Should().Be(PasstBackend.MaxRestarts + 1);
        passt.LastError.Should().Contain(reason);
        passt.PeekFrame().IsEmpty.Should().BeTrue();
        passt.CanSend.Should().BeFalse("a NIC given up on takes nothing");
        passt.Send([1, 2, 3]).Should().BeFalse();
    }

    [Fact]
    public void Whole_frames_arrive_in_order_and_a_frame_sent_goes_out_with_its_length_first()
    {
        string sent = Path.Combine(_folder, "sent.bin");
        // Two frames (3 and 2 bytes), then copy whatever comes back to a file.
        using var passt = PasstBackend.Start([], StandIn($@"printf '\x00\x00\x00\x03abc\x00\x00\x00\x02de' >&3; head -c 8 <&3 > '{sent}'; exec sleep 30"));

        byte[]? first = null;
        PeekUntil(passt, () => (first ??= passt.PeekFrame().ToArray() is { Length: > 0 } f ? f : null) is not null);
        first.Should().Equal("abc"u8.ToArray());
        passt.ConsumeFrame();
        passt.PeekFrame().ToArray().Should().Equal("de"u8.ToArray());
        passt.ConsumeFrame();

        passt.CanSend.Should().BeTrue();
        passt.Send("wxyz"u8).Should().BeTrue();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((!File.Exists(sent) || new FileInfo(sent).Length < 8) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        File.ReadAllBytes(sent).Should().Equal([0, 0, 0, 4, .. "wxyz"u8.ToArray()]);
        passt.Restarts.Should().Be(0);
    }
}
