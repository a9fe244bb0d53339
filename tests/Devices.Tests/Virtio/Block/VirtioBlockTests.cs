using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Platform.Devices.Tests.Fakes;
using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Block;
using static Platform.Devices.Tests.Virtio.FakeBuffer;

namespace Platform.Devices.Tests.Virtio.Block;

// virtio-blk end to end on a temporary raw image: a driver on the PCI transport, requests through FakeVirtQueue.
public sealed class VirtioBlockTests : IDisposable
{
    private const int ImageSize = 1 << 20;
    private const ulong Capacity = ImageSize / 512;

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"virtio-blk-{Guid.NewGuid():N}.img");
    private readonly byte[] _original = new byte[ImageSize];
    private readonly FakeGuestMemory _memory = new(8 << 20);
    private readonly RecordingMsiTarget _msi = new();
    private FakeVirtQueue _queue = null!;
    private VirtioPciDevice? _transport;
    private VirtioPciDriver _driver = null!;
    private VirtioBlock _block = null!;

    public VirtioBlockTests()
    {
        new Random(42).NextBytes(_original);
        File.WriteAllBytes(_path, _original);
    }

    public void Dispose()
    {
        _transport?.Dispose();
        File.Delete(_path);
    }

    private void Start(bool readOnly = false, IFileSpaceOperations? space = null, Func<IBlockBackend, IBlockBackend>? wrap = null, ulong? features = null)
    {
        IBlockBackend backend = RawFileBlockBackend.Open(new DiskOptions(_path, readOnly), space);
        _block = new VirtioBlock(wrap is null ? backend : wrap(backend), serial: "disk-serial-1");
        _transport = new VirtioPciDevice(_block, _memory, _msi, intx: null);
        _driver = new VirtioPciDriver(_transport);
        _queue = new FakeVirtQueue(_memory, 128);
        _driver.Initialize(msix: true, features, _queue).Should().HaveFlag(VirtioDeviceStatus.DriverOk);
    }

    /// <summary>Byte image of the disk after the device let go of it.</summary>
    private byte[] ImageAfterStop()
    {
        _transport!.Dispose();
        _transport = null;
        return File.ReadAllBytes(_path);
    }

    private static byte[] Header(uint type, ulong sector)
    {
        var h = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(h, type);
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(8), sector);
        return h;
    }

    private static byte[] Segment(ulong sector, uint count, uint flags = 0)
    {
        var s = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(s, sector);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(8), count);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(12), flags);
        return s;
    }

    /// <summary>Publishes a request, notifies, waits for its used entry; returns the status byte and used length.</summary>
    private (byte Status, uint Used, ushort Head) Submit(params FakeBuffer[] buffers)
    {
        ushort expected = (ushort)(_queue.UsedIndex + 1);
        ushort head = _queue.AddChain(buffers);
        _driver.Notify(0);
        SpinWait.SpinUntil(() => _queue.UsedIndex == expected, TimeSpan.FromSeconds(10)).Should().BeTrue("the device completes the request");
        var used = _queue.Used(expected - 1);
        used.Id.Should().Be(head);
        byte status = _queue.ReadBuffer((ushort)((head + buffers.Length - 1) % _queue.Size), (int)buffers[^1].Length)[^1];
        return (status, used.Length, head);
    }

    private byte[] ReadData(ushort head, int index, int length) => _queue.ReadBuffer((ushort)((head + index) % _queue.Size), length);

    [Fact]
    public void Configuration_space_describes_the_disk()
    {
        Start();
        _driver.Read32(0x2000).Should().Be((uint)Capacity);
        _driver.Read32(0x2004).Should().Be(0);
        _driver.Read32(0x200C).Should().Be(254, "seg_max leaves two of the 256 descriptors for header and status");
        _driver.Read32(0x2014).Should().Be(512);
        _driver.Read32(0x2028).Should().Be(VirtioBlock.MaxDiscardSegments);
    }

    [Fact]
    public void A_writable_disk_offers_flush_and_write_zeroes_and_discard_only_with_hole_punching()
    {
        Start();
        ulong features = _driver.ReadDeviceFeatures();
        (features & (VirtioBlock.FeatureFlush | VirtioBlock.FeatureBlockSize | VirtioBlock.FeatureSegMax | VirtioBlock.FeatureWriteZeroes))
            .Should().Be(VirtioBlock.FeatureFlush | VirtioBlock.FeatureBlockSize | VirtioBlock.FeatureSegMax | VirtioBlock.FeatureWriteZeroes);
        (features & (VirtioBlock.FeatureReadOnly | VirtioBlock.FeatureDiscard)).Should().Be(0);
    }

    [Fact]
    public void Reads_return_the_image_across_several_buffers()
    {
        Start();
        var (status, used, head) = Submit(Readable(Header(VirtioBlock.RequestIn, 3)), Writable(512), Writable(1024), Writable(1));
        status.Should().Be(VirtioBlock.StatusOk);
        used.Should().Be(1537);
        ReadData(head, 1, 512).Concat(ReadData(head, 2, 1024)).Should().Equal(_original.AsSpan(3 * 512, 1536).ToArray());
        _block.BytesRead.Should().Be(1536);
    }

    [Fact]
    public void A_read_larger_than_the_bounce_buffer_is_served_whole()
    {
        Start();
        const int length = 600 * 1024;
        var (status, used, head) = Submit(Readable(Header(VirtioBlock.RequestIn, 8)), Writable(length), Writable(1));
        status.Should().Be(VirtioBlock.StatusOk);
        used.Should().Be(length + 1);
        ReadData(head, 1, length).Should().Equal(_original.AsSpan(8 * 512, length).ToArray());
    }

    [Fact]
    public void Writes_reach_the_image_and_header_and_data_may_share_a_descriptor()
    {
        Start();
        byte[] data = Enumerable.Repeat((byte)0xA5, 1024).ToArray();
        Submit(Readable(Header(VirtioBlock.RequestOut, 10)), Readable(data), Writable(1)).Status.Should().Be(VirtioBlock.StatusOk);
        byte[] combined = [.. Header(VirtioBlock.RequestOut, 20), .. Enumerable.Repeat((byte)0x5A, 512)];
        var (status, used, _) = Submit(Readable(combined), Writable(1));
        status.Should().Be(VirtioBlock.StatusOk);
        used.Should().Be(1, "a write returns only the status byte");

        byte[] image = ImageAfterStop();
        image.AsSpan(10 * 512, 1024).ToArray().Should().OnlyContain(b => b == 0xA5);
        image.AsSpan(20 * 512, 512).ToArray().Should().OnlyContain(b => b == 0x5A);
        image.AsSpan(0, 10 * 512).ToArray().Should().Equal(_original.AsSpan(0, 10 * 512).ToArray());
    }

    [Fact]
    public void A_write_is_in_the_backend_before_its_used_entry_is_published()
    {
        var observed = new List<ushort>();
        Start(wrap: inner => new ObservingBackend(inner, () => observed.Add(_queue.UsedIndex)));
        Submit(Readable(Header(VirtioBlock.RequestOut, 0)), Readable(new byte[512]), Writable(1));
        Submit(Readable(Header(VirtioBlock.RequestFlush, 0)), Writable(1));
        observed.Should().Equal((ushort)0, (ushort)1);
    }

    [Fact]
    public void Flush_succeeds_and_is_counted()
    {
        Start();
        Submit(Readable(Header(VirtioBlock.RequestFlush, 0)), Writable(1)).Status.Should().Be(VirtioBlock.StatusOk);
        _block.FlushRequests.Should().Be(1);
    }

    [Fact]
    public void A_failed_flush_answers_IOERR()
    {
        Start(wrap: inner => new ObservingBackend(inner, null) { FailFlush = true });
        Submit(Readable(Header(VirtioBlock.RequestFlush, 0)), Writable(1)).Status.Should().Be(VirtioBlock.StatusIoError);
        _block.FailedRequests.Should().Be(1);
    }

    [Fact]
    public void Get_id_returns_the_serial_padded_to_20_bytes()
    {
        Start();
        var (status, used, head) = Submit(Readable(Header(VirtioBlock.RequestGetId, 0)), Writable(20), Writable(1));
        status.Should().Be(VirtioBlock.StatusOk);
        used.Should().Be(21);
        ReadData(head, 1, 20).Should().Equal([.. "disk-serial-1"u8.ToArray(), 0, 0, 0, 0, 0, 0, 0]);
    }

    [Theory]
    [InlineData(VirtioBlock.RequestIn, Capacity, 512)]          // starts at the end
    [InlineData(VirtioBlock.RequestIn, Capacity - 1, 1024)]     // runs past the end
    [InlineData(VirtioBlock.RequestIn, ulong.MaxValue, 512)]    // sector * 512 overflows
    [InlineData(VirtioBlock.RequestIn, 0, 100)]                 // not whole sectors
    [InlineData(VirtioBlock.RequestOut, Capacity, 512)]
    [InlineData(VirtioBlock.RequestOut, 1, 700)]
    public void Requests_past_the_end_or_not_whole_sectors_get_IOERR(uint type, ulong sector, uint length)
    {
        Start();
        var (status, _, _) = type == VirtioBlock.RequestIn
            ? Submit(Readable(Header(type, sector)), Writable(length), Writable(1))
            : Submit(Readable(Header(type, sector)), Readable(new byte[length]), Writable(1));
        status.Should().Be(VirtioBlock.StatusIoError);
        _driver.Status.Should().NotHaveFlag(VirtioDeviceStatus.DeviceNeedsReset, "a bad request is the guest's error, answered, not fatal");
        ImageAfterStop().Should().Equal(_original);
    }

    [Fact]
    public void An_unknown_request_type_is_unsupported()
    {
        Start();
        Submit(Readable(Header(99, 0)), Writable(1)).Status.Should().Be(VirtioBlock.StatusUnsupported);
    }

    [Fact]
    public void A_read_only_disk_says_so_serves_reads_and_refuses_writes_with_IOERR()
    {
        Start(readOnly: true);
        ulong features = _driver.ReadDeviceFeatures();
        (features & VirtioBlock.FeatureReadOnly).Should().NotBe(0);
        (features & (VirtioBlock.FeatureWriteZeroes | VirtioBlock.FeatureDiscard)).Should().Be(0);

        var (status, _, head) = Submit(Readable(Header(VirtioBlock.RequestIn, 0)), Writable(512), Writable(1));
        status.Should().Be(VirtioBlock.StatusOk);
        ReadData(head, 1, 512).Should().Equal(_original.AsSpan(0, 512).ToArray());

        Submit(Readable(Header(VirtioBlock.RequestOut, 0)), Readable(new byte[512]), Writable(1)).Status.Should().Be(VirtioBlock.StatusIoError);
        Submit(Readable(Header(VirtioBlock.RequestWriteZeroes, 0), Segment(0, 8)), Writable(1)).Status.Should().Be(VirtioBlock.StatusUnsupported);
        Submit(Readable(Header(VirtioBlock.RequestFlush, 0)), Writable(1)).Status.Should().Be(VirtioBlock.StatusOk);
        ImageAfterStop().Should().Equal(_original);
    }

    [Fact]
    public void Write_zeroes_zeroes_each_segment()
    {
        Start();
        var (status, _, _) = Submit(Readable(Header(VirtioBlock.RequestWriteZeroes, 0)), Readable([.. Segment(4, 2), .. Segment(100, 1, flags: 1)]), Writable(1));
        status.Should().Be(VirtioBlock.StatusOk);
        byte[] image = ImageAfterStop();
        image.AsSpan(4 * 512, 1024).ToArray().Should().OnlyContain(b => b == 0);
        image.AsSpan(100 * 512, 512).ToArray().Should().OnlyContain(b => b == 0);
        image.AsSpan(6 * 512, 94 * 512).ToArray().Should().Equal(_original.AsSpan(6 * 512, 94 * 512).ToArray());
    }

    [Fact]
    public void Write_zeroes_with_unknown_flags_is_unsupported_and_a_bad_segment_changes_nothing()
    {
        Start();
        Submit(Readable(Header(VirtioBlock.RequestWriteZeroes, 0), Segment(0, 1, flags: 2)), Writable(1)).Status.Should().Be(VirtioBlock.StatusUnsupported);
        Submit(Readable(Header(VirtioBlock.RequestWriteZeroes, 0)), Readable([.. Segment(0, 1), .. Segment(Capacity, 1)]), Writable(1))
            .Status.Should().Be(VirtioBlock.StatusIoError);
        Submit(Readable(Header(VirtioBlock.RequestWriteZeroes, 0)), Readable(new byte[20]), Writable(1)).Status.Should().Be(VirtioBlock.StatusIoError);
        ImageAfterStop().Should().Equal(_original);
    }

    [Fact]
    public void Discard_is_unsupported_without_hole_punching()
    {
        Start();
        Submit(Readable(Header(VirtioBlock.RequestDiscard, 0), Segment(0, 8)), Writable(1)).Status.Should().Be(VirtioBlock.StatusUnsupported);
    }

    [Fact]
    public void Discard_and_unmapping_write_zeroes_punch_holes_when_the_host_can()
    {
        var space = new RecordingSpaceOperations();
        Start(space: space);
        (_driver.ReadDeviceFeatures() & VirtioBlock.FeatureDiscard).Should().NotBe(0);
        _driver.Read8(0x2038).Should().Be(1, "write_zeroes_may_unmap");

        Submit(Readable(Header(VirtioBlock.RequestDiscard, 0), Segment(8, 16)), Writable(1)).Status.Should().Be(VirtioBlock.StatusOk);
        Submit(Readable(Header(VirtioBlock.RequestDiscard, 0), Segment(8, 16, flags: 1)), Writable(1)).Status.Should().Be(VirtioBlock.StatusUnsupported);
        Submit(Readable(Header(VirtioBlock.RequestWriteZeroes, 0), Segment(32, 8, flags: 1)), Writable(1)).Status.Should().Be(VirtioBlock.StatusOk);
        Submit(Readable(Header(VirtioBlock.RequestWriteZeroes, 0), Segment(64, 8)), Writable(1)).Status.Should().Be(VirtioBlock.StatusOk);
        space.Calls.Should().Equal(("punch", 8 * 512L, 16 * 512L), ("punch", 32 * 512L, 8 * 512L), ("zero", 64 * 512L, 8 * 512L));
    }

    [Fact]
    public void A_chain_without_room_for_header_and_status_puts_the_device_into_NEEDS_RESET()
    {
        Start();
        _queue.AddChain(Readable([1, 2, 3, 4]), Writable(1));
        _driver.Notify(0);
        _msi.WaitForSignal().Should().BeTrue();
        SpinWait.SpinUntil(() => _driver.Status.HasFlag(VirtioDeviceStatus.DeviceNeedsReset), TimeSpan.FromSeconds(10)).Should().BeTrue();
        _queue.UsedIndex.Should().Be(0);
        _block.Errors.Should().Be(1);
    }

    [Fact]
    public void A_second_VM_cannot_open_a_disk_that_is_in_use_for_writing()
    {
        Start();
        var act = () => RawFileBlockBackend.Open(new DiskOptions(_path));
        act.Should().Throw<IOException>().WithMessage("*another VM*");
    }

    /// <summary>Passes through to a real backend, calling back on every write, optionally failing flushes.</summary>
    private sealed class ObservingBackend(IBlockBackend inner, Action? onWrite) : IBlockBackend
    {
        public bool FailFlush { get; init; }

        public long Length => inner.Length;

        public bool IsReadOnly => inner.IsReadOnly;

        public bool SupportsDiscard => inner.SupportsDiscard;

        public string? LastError => inner.LastError;

        public int RequiredAlignment => inner.RequiredAlignment;

        public bool Read(long offset, Span<byte> destination) => inner.Read(offset, destination);

        public bool Read(long offset, IReadOnlyList<Memory<byte>> destinations) => inner.Read(offset, destinations);

        public bool Write(long offset, ReadOnlySpan<byte> source)
        {
            onWrite?.Invoke();
            return inner.Write(offset, source);
        }

        public bool Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> sources)
        {
            onWrite?.Invoke();
            return inner.Write(offset, sources);
        }

        public bool Flush()
        {
            onWrite?.Invoke();
            return !FailFlush && inner.Flush();
        }

        public bool Discard(long offset, long length) => inner.Discard(offset, length);

        public bool WriteZeroes(long offset, long length, bool mayUnmap) => inner.WriteZeroes(offset, length, mayUnmap);

        public void Dispose() => inner.Dispose();
    }

    private sealed class RecordingSpaceOperations : IFileSpaceOperations
    {
        public List<(string Op, long Offset, long Length)> Calls { get; } = [];

        public bool TryPunchHole(SafeFileHandle file, long offset, long length, out string? failure)
        {
            Calls.Add(("punch", offset, length));
            failure = null;
            return true;
        }

        public bool TryZeroRange(SafeFileHandle file, long offset, long length, out string? failure)
        {
            Calls.Add(("zero", offset, length));
            failure = null;
            return true;
        }
    }
}
