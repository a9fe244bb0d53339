using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Tests.Kvm.Interop;

// The TAP wrapper's frame I/O, on a socket pair that keeps frame boundaries as a TAP does (opening a real TAP is
// TapBackendTests' business and needs CAP_NET_ADMIN).
public sealed class TapDeviceTests
{
    [Fact]
    public void Frames_go_out_and_come_in_whole_and_an_empty_queue_reads_EAGAIN()
    {
        var (ours, peer) = TestNative.PacketPair();
        try
        {
            using var tap = new TapDevice(new FileDescriptorHandle(ours));
            byte[] buffer = new byte[64];

            tap.Read(buffer).Should().Be(-LibcNative.EAGAIN, "non-blocking, and nothing waits");
            tap.Write([1, 2, 3, 4, 5]).Should().Be(5);
            TestNative.ReadOnce(peer, buffer).Should().Be(5);
            TestNative.WriteOnce(peer, [9, 8, 7]).Should().Be(3);
            tap.Read(buffer).Should().Be(3);
            buffer[..3].Should().Equal(9, 8, 7);
        }
        finally
        {
            TestNative.Close(peer);
        }
    }

    [Fact]
    public void A_disposed_tap_closes_its_descriptor_and_refuses_io()
    {
        var (ours, peer) = TestNative.PacketPair();
        try
        {
            var tap = new TapDevice(new FileDescriptorHandle(ours));
            tap.Dispose();

            TestNative.ReadOnce(peer).Should().Be(0, "the other end is closed: end of stream");
            var read = () => tap.Read(new byte[16]);
            read.Should().Throw<ObjectDisposedException>();
            var write = () => tap.Write(new byte[16]);
            write.Should().Throw<ObjectDisposedException>();
        }
        finally
        {
            TestNative.Close(peer);
        }
    }
}
