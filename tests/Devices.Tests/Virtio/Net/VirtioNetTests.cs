using System.Collections.Concurrent;
using System.Net.NetworkInformation;
using Platform.Devices.Tests.Fakes;
using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Net;
using static Platform.Devices.Tests.Virtio.FakeBuffer;

namespace Platform.Devices.Tests.Virtio.Net;

// virtio-net end to end: a driver on the PCI transport, frames through a fake backend. Receiving with and without
// mergeable buffers is in VirtioNetTests.Receive.cs, the control queue and receive filter in VirtioNetTests.Control.cs.
public sealed partial class VirtioNetTests : IDisposable
{
    private static readonly PhysicalAddress Mac = PhysicalAddress.Parse("52-54-00-12-34-56");

    private readonly FakeGuestMemory _memory = new(4 << 20);
    private readonly RecordingMsiTarget _msi = new();
    private readonly FakeNetBackend _backend;
    private readonly VirtioNet _net;
    private readonly VirtioPciDevice _transport;
    private readonly VirtioPciDriver _driver;
    private readonly FakeVirtQueue _rx;
    private readonly FakeVirtQueue _tx;
    private readonly FakeVirtQueue _ctrl;

    public VirtioNetTests() : this(withHeader: true)
    {
    }

    private VirtioNetTests(bool withHeader)
    {
        _backend = new FakeNetBackend(withHeader);
        _net = new VirtioNet(_backend, Mac);
        _transport = new VirtioPciDevice(_net, _memory, _msi, intx: null);
        _driver = new VirtioPciDriver(_transport);
        _rx = new FakeVirtQueue(_memory, 256, 0x1000);
        _tx = new FakeVirtQueue(_memory, 256, 0x200000);
        _ctrl = new FakeVirtQueue(_memory, 64, 0x300000);
    }

    /// <summary>Every feature the device offers except <paramref name="left"/>.</summary>
    private ulong OfferedBut(ulong left) => _driver.ReadDeviceFeatures() & ~left;

    public void Dispose() => _transport.Dispose();

    private static byte[] Frame(int payload, byte fill) => [.. new byte[] { 0x52, 0x54, 0, 0x12, 0x34, 0x56, 2, 0, 0, 0, 0, 1, 8, 0 }, .. Enumerable.Repeat(fill, payload)];

    private static byte[] WithHeader(byte[] frame, byte flags = 0) => [flags, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, .. frame];

    private static void WaitForUsed(FakeVirtQueue queue, ushort count) =>
        SpinWait.SpinUntil(() => queue.UsedIndex == count, TimeSpan.FromSeconds(10)).Should().BeTrue();

    [Fact]
    public void Configuration_space_holds_the_MAC_and_link_status()
    {
        _transport.DeviceId.Should().Be(0x1041);
        Enumerable.Range(0, 6).Select(i => _driver.Read8((ulong)(0x2000 + i))).Should().Equal(Mac.GetAddressBytes());
        _driver.Read16(0x2006).Should().Be(VirtioNet.StatusLinkUp);
    }

    [Fact]
    public void Only_offloads_the_backend_supports_are_offered_and_the_negotiated_ones_reach_it()
    {
        ulong features = _driver.ReadDeviceFeatures();
        (features & VirtioNet.OffloadFeatures).Should().Be(VirtioNet.FeatureCsum | VirtioNet.FeatureGuestCsum | VirtioNet.FeatureHostTso4);
        (features & (VirtioNet.FeatureMac | VirtioNet.FeatureStatus)).Should().Be(VirtioNet.FeatureMac | VirtioNet.FeatureStatus);

        _driver.Initialize(msix: true, VirtioFeatures.Version1 | VirtioNet.FeatureCsum | VirtioNet.FeatureMac, _rx, _tx);
        _backend.EnabledOffloads.Should().Be(VirtioNet.FeatureCsum);
    }

    [Fact]
    public void Transmitted_frames_reach_the_backend_with_the_header_passed_through()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        byte[] frame = Frame(100, 0xAB);
        byte[] header = WithHeader([], flags: 1)[..12]; // NEEDS_CSUM: the offload request must survive
        ushort head = _tx.AddChain(Readable(header), Readable(frame));
        _driver.Notify(VirtioNet.TransmitQueue);

        WaitForUsed(_tx, 1);
        _tx.Used(0).Should().Be((head, 0u));
        _backend.Sent.Should().ContainSingle().Which.Should().Equal([.. header, .. frame]);
        _net.FramesSent.Should().Be(1);
        _net.BytesSent.Should().Be(frame.Length);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Received_frames_that_fit_fill_one_receive_chain_each_with_num_buffers_1(bool mergeable)
    {
        _driver.Initialize(msix: true, mergeable ? null : OfferedBut(VirtioNet.FeatureMrgRxbuf), _rx, _tx);
        ushort head = _rx.AddChain(Writable(2048));
        _driver.Notify(VirtioNet.ReceiveQueue);
        byte[] frame = WithHeader(Frame(60, 0x11));
        _backend.Deliver(frame);

        WaitForUsed(_rx, 1);
        _rx.Used(0).Should().Be((head, (uint)frame.Length));
        byte[] got = _rx.ReadBuffer(head, frame.Length);
        got[10].Should().Be(1, "num_buffers");
        got.AsSpan(12).ToArray().Should().Equal(frame.AsSpan(12).ToArray());
        _net.FramesReceived.Should().Be(1);
    }

    [Fact]
    public void A_frame_waits_for_receive_buffers_and_goes_out_when_the_guest_posts_them()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        byte[] frame = WithHeader(Frame(40, 0x22));
        _backend.Deliver(frame);
        _backend.Pending.Should().Be(1, "with no buffer to copy into, the frame stays in the backend (read in place, not copied aside)");
        _rx.UsedIndex.Should().Be(0);

        ushort head = _rx.AddChain(Writable(2048));
        _driver.Notify(VirtioNet.ReceiveQueue);
        WaitForUsed(_rx, 1);
        _rx.Used(0).Should().Be((head, (uint)frame.Length));
        // The device thread publishes the used entry, then tells the backend the frame is consumed: wait for both.
        SpinWait.SpinUntil(() => _backend.Pending == 0, TimeSpan.FromSeconds(10)).Should().BeTrue("the frame left the backend");
    }

    [Fact]
    public void A_backend_that_cannot_take_frames_holds_the_guests_in_its_queue_until_it_can()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        _backend.CanSend = false;
        byte[] first = WithHeader(Frame(20, 0x01)), second = WithHeader(Frame(20, 0x02));
        _tx.AddChain(Readable(first));
        _tx.AddChain(Readable(second));
        _driver.Notify(VirtioNet.TransmitQueue);
        SpinWait.SpinUntil(() => _net.TransmitStalls > 0, TimeSpan.FromSeconds(10)).Should().BeTrue();
        _tx.UsedIndex.Should().Be(0, "nothing is taken, so nothing is lost");

        _backend.Unblock();
        WaitForUsed(_tx, 2);
        _backend.Sent.Should().HaveCount(2);
        _backend.Sent[0].Should().Equal(first);
        _backend.Sent[1].Should().Equal(second);
        _net.FramesDropped.Should().Be(0);
    }

    [Fact]
    public void The_addresses_the_guest_sends_from_are_learnt_and_others_ignored()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        byte[] ours = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
        byte[] theirs = [0x52, 0x54, 0, 0x99, 0x99, 0x99];
        byte[] Ipv4From(byte[] mac, byte[] ip) =>
            [.. new byte[6], .. mac, 0x08, 0x00, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, .. ip, 10, 0, 0, 1];
        byte[] Ipv6From(byte[] ip) =>
            [.. new byte[6], .. ours, 0x86, 0xDD, 0x60, 0, 0, 0, 0, 0, 17, 64, .. ip, .. new byte[16]];
        byte[] linkLocal = [0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0, 0xFF, 0xFE, 0x12, 0x34, 0x56];
        byte[] global = [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x15];
        foreach (byte[] frame in new[]
                 {
                     Ipv4From(theirs, [10, 9, 9, 9]), Ipv4From(ours, [0, 0, 0, 0]), Ipv4From(ours, [10, 0, 2, 15]),
                     Ipv6From(linkLocal), Ipv6From(global),
                 })
        {
            _tx.AddChain(Readable(WithHeader(frame)));
        }

        _driver.Notify(VirtioNet.TransmitQueue);
        WaitForUsed(_tx, 5);
        _net.GuestAddresses.Ipv4!.ToString().Should().Be("10.0.2.15", "another MAC's packets and a DHCP client's 0.0.0.0 say nothing");
        _net.GuestAddresses.Ipv6!.ToString().Should().Be("2001:db8::15", "link-local addresses are not the one to show");
    }

    [Fact]
    public void Without_mergeable_buffers_a_frame_too_big_for_its_chain_is_dropped_and_the_chain_returned_empty()
    {
        _driver.Initialize(msix: true, OfferedBut(VirtioNet.FeatureMrgRxbuf), _rx, _tx);
        ushort head = _rx.AddChain(Writable(64));
        _driver.Notify(VirtioNet.ReceiveQueue);
        _backend.Deliver(WithHeader(Frame(200, 0x33)));
        WaitForUsed(_rx, 1);
        _rx.Used(0).Should().Be((head, 0u));
        _net.FramesDropped.Should().Be(1);
        _driver.Status.Should().NotHaveFlag(VirtioDeviceStatus.DeviceNeedsReset);
    }

    [Fact]
    public void A_transmit_chain_shorter_than_the_header_is_dropped_not_fatal()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        _tx.AddChain(Readable([1, 2, 3]));
        _driver.Notify(VirtioNet.TransmitQueue);
        WaitForUsed(_tx, 1);
        _backend.Sent.Should().BeEmpty();
        _net.FramesDropped.Should().Be(1);
    }

    [Fact]
    public void Link_changes_raise_a_configuration_interrupt()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        _msi.Clear();
        byte generation = _driver.Read8(VirtioPciDriver.GenerationRegister);
        _net.SetLinkUp(false);
        _msi.Signals.Should().ContainSingle().Which.Vector.Should().Be(0);
        _driver.Read16(0x2006).Should().Be(0);
        _driver.Read8(VirtioPciDriver.GenerationRegister).Should().NotBe(generation);
    }

    [Fact]
    public void With_the_link_down_arriving_frames_are_lost_and_after_it_comes_back_they_arrive()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        ushort head = _rx.AddChain(Writable(2048));
        _driver.Notify(VirtioNet.ReceiveQueue);
        _net.SetLinkUp(false);

        _backend.Deliver(WithHeader(Frame(60, 0x51)));
        SpinWait.SpinUntil(() => _backend.Pending == 0, TimeSpan.FromSeconds(10)).Should().BeTrue("the frame left the backend");
        SpinWait.SpinUntil(() => _net.FramesDropped == 1, TimeSpan.FromSeconds(10)).Should().BeTrue("a pulled cable loses what arrives");
        _rx.UsedIndex.Should().Be(0, "the guest's buffer stays free");

        _net.SetLinkUp(true);
        byte[] frame = Frame(60, 0x52);
        _backend.Deliver(WithHeader(frame));
        WaitForUsed(_rx, 1);
        _rx.Used(0).Id.Should().Be(head);
    }

    [Fact]
    public void A_backend_without_virtio_headers_gets_bare_frames_and_the_guest_gets_a_zero_header()
    {
        using var test = new VirtioNetTests(withHeader: false);
        test._driver.Initialize(msix: true, null, test._rx, test._tx);
        byte[] frame = Frame(30, 0x44);
        test._tx.AddChain(Readable(WithHeader(frame)));
        ushort head = test._rx.AddChain(Writable(2048));
        test._driver.Notify(VirtioNet.TransmitQueue);
        test._driver.Notify(VirtioNet.ReceiveQueue);
        test._backend.Deliver(frame);

        WaitForUsed(test._tx, 1);
        test._backend.Sent.Should().ContainSingle().Which.Should().Equal(frame);
        WaitForUsed(test._rx, 1);
        test._rx.ReadBuffer(head, 12 + frame.Length).Should().Equal([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, .. frame]);
    }

    /// <summary>Frames the test delivers wait in a queue; sent frames are recorded.</summary>
    private sealed class FakeNetBackend(bool withHeader) : INetBackend
    {
        private readonly ConcurrentQueue<byte[]> _incoming = new();
        private readonly ConcurrentQueue<byte[]> _sent = new();
        private Action? _notify;
        private Action? _sendReady;

        public bool HasVirtioHeader => withHeader;

        public ulong SupportedOffloads => VirtioNet.FeatureCsum | VirtioNet.FeatureGuestCsum | VirtioNet.FeatureHostTso4 | (1UL << 40);

        public ulong EnabledOffloads { get; private set; }

        public IReadOnlyList<byte[]> Sent => [.. _sent];

        public int Pending => _incoming.Count;

        public void Deliver(byte[] frame)
        {
            _incoming.Enqueue(frame);
            _notify?.Invoke();
        }

        public void EnableOffloads(ulong negotiatedOffloads) => EnabledOffloads = negotiatedOffloads;

        public void SetNotifiers(Action frameAvailable, Action sendReady)
        {
            _notify = frameAvailable;
            _sendReady = sendReady;
        }

        /// <summary>While false the device must leave the guest's frames queued.</summary>
        public bool CanSend { get; set; } = true;

        public void Unblock()
        {
            CanSend = true;
            _sendReady?.Invoke();
        }

        public bool Send(ReadOnlySpan<byte> frame)
        {
            _sent.Enqueue(frame.ToArray());
            return true;
        }

        public ReadOnlySpan<byte> PeekFrame() => _incoming.TryPeek(out var frame) ? frame : default;

        public void ConsumeFrame() => _incoming.TryDequeue(out _);

        public void Dispose()
        {
        }
    }
}
