using System.Buffers.Binary;
using Platform.Engine.Net;

namespace Platform.Engine.Tests.Net;

public sealed class LengthPrefixedFramesTests
{
    private static byte[] Prefixed(params byte[][] frames) =>
        [.. frames.SelectMany(f => { var p = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(p, (uint)f.Length); return p.Concat(f); })];

    private static void Feed(LengthPrefixedFrames frames, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(frames.FreeSpace);
        frames.Commit(bytes.Length);
    }

    [Fact]
    public void Frames_split_anywhere_come_out_whole_and_in_order()
    {
        byte[] a = [.. Enumerable.Range(0, 60).Select(i => (byte)i)], b = [.. Enumerable.Repeat((byte)0xB, 1514)], c = [7];
        byte[] stream = Prefixed(a, b, c);
        var frames = new LengthPrefixedFrames();
        var seen = new List<byte[]>();
        foreach (int size in new[] { 1, 3, 4, 59, 1, 6, 1500, stream.Length })
        {
            int cut = Math.Min(size, stream.Length); // the bytes one read returned
            Feed(frames, stream.AsSpan(0, cut));
            stream = stream[cut..];
            for (var frame = frames.Peek(); !frame.IsEmpty; frame = frames.Peek())
            {
                seen.Add(frame.ToArray());
                frames.Consume();
            }

            if (stream.Length == 0)
            {
                break;
            }
        }

        seen.Should().HaveCount(3);
        seen[0].Should().Equal(a);
        seen[1].Should().Equal(b);
        seen[2].Should().Equal(c);
        frames.Buffered.Should().Be(0);
    }

    [Fact]
    public void A_frame_waits_until_all_of_it_has_arrived()
    {
        var frames = new LengthPrefixedFrames();
        byte[] stream = Prefixed(new byte[100]);
        Feed(frames, stream.AsSpan(0, 103));
        frames.Peek().IsEmpty.Should().BeTrue();
        Feed(frames, stream.AsSpan(103));
        frames.Peek().Length.Should().Be(100);
    }

    [Fact]
    public void The_buffer_makes_room_for_a_largest_frame_by_moving_what_is_left_to_the_front()
    {
        var frames = new LengthPrefixedFrames(LengthPrefixedFrames.MaxFrameSize + 4 + 100);
        Feed(frames, Prefixed(new byte[90]));
        frames.Consume();
        frames.FreeSpace.Length.Should().Be(LengthPrefixedFrames.MaxFrameSize + 4 + 100, "an empty buffer starts at the front again");

        byte[] big = [.. Enumerable.Range(0, LengthPrefixedFrames.MaxFrameSize).Select(i => (byte)(i * 7))];
        byte[] stream = Prefixed(new byte[50], big);
        Feed(frames, stream.AsSpan(0, 80)); // the small frame and 26 bytes of the big one's start
        frames.Consume();
        Feed(frames, stream.AsSpan(80));
        frames.Peek().ToArray().Should().Equal(big);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData((uint)LengthPrefixedFrames.MaxFrameSize + 1)]
    [InlineData(uint.MaxValue)]
    public void A_length_no_frame_can_have_breaks_the_stream(uint length)
    {
        var frames = new LengthPrefixedFrames();
        byte[] prefix = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, length);
        Feed(frames, prefix);
        var peek = () => frames.Peek().Length;
        peek.Should().Throw<InvalidDataException>().WithMessage($"*{length}*");
    }
}
