using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Platform.Devices.Tests.Fakes;
using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Block;
using static Platform.Devices.Tests.Virtio.FakeBuffer;

namespace Platform.Devices.Tests.Virtio.Block;

// virtio-blk with requests in flight (VirtioBlock.InFlight.cs): in-place I/O on guest memory, completions in the order
// the I/O finishes, the alignment fallback, and what a malformed chain or a reset does to requests still running.
// The backend is an in-memory disk whose reads hold until the test releases them, so every interleaving is chosen here.
public sealed class VirtioBlockInFlightTests : IDisposable
{
    private const int DiskSize = 1 << 20;
    private const ushort QueueVector = 1;

    private readonly FakeGuestMemory _memory = new(8 << 20);
    private readonly RecordingMsiTarget _msi = new();
    private readonly GatedDisk _disk = new(DiskSize);
    private FakeVirtQueue _queue = null!;
    private VirtioPciDevice? _transport;
    private VirtioPciDriver _driver = null!;
    private VirtioBlock _block = null!;

    public void Dispose()
    {
        _disk.ReleaseAll();
        _transport?.Dispose();
    }

    private void Start(int alignment = 1, ulong? features = null)
    {
        _disk.RequiredAlignment = alignment;
        _block = new VirtioBlock(_disk);
        _transport = new VirtioPciDevice(_block, _memory, _msi, intx: null);
        _driver = new VirtioPciDriver(_transport);
        StartQueue(features);
    }

    private void StartQueue(ulong? features = null, ulong queueBase = 0x1000)
    {
        _queue = new FakeVirtQueue(_memory, 128, queueBase);
        _driver.Initialize(msix: true, features, _queue).Should().HaveFlag(VirtioDeviceStatus.DriverOk);
    }

    private static byte[] Header(uint type, ulong sector)
    {
        var h = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(h, type);
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(8), sector);
        return h;
    }

    /// <summary>A read of <paramref name="length"/> bytes from <paramref name="sector"/> into a page-aligned buffer; returns its head.</summary>
    private ushort AddRead(ulong sector, uint length) =>
        _queue.AddChain(Readable(Header(VirtioBlock.RequestIn, sector)), WritableAt(4096, length), Writable(1));

    private void WaitForUsed(int count) =>
        SpinWait.SpinUntil(() => _queue.UsedIndex == count, TimeSpan.FromSeconds(10)).Should().BeTrue($"the device publishes {count} completions");

    private byte StatusOf(ushort head, int buffers) => _queue.ReadBuffer((ushort)((head + buffers - 1) % _queue.Size), 1)[0];

    private byte[] DataOf(ushort head, int length) => _queue.ReadBuffer((ushort)((head + 1) % _queue.Size), length);

    [Fact]
    public void Requests_run_together_and_complete_in_the_order_their_IO_finishes()
    {
        Start();
        _disk.Hold(0, 8 * 512, 16 * 512);
        ushort a = AddRead(0, 512), b = AddRead(8, 1024), c = AddRead(16, 1536);
        _driver.Notify(0);
        _disk.WaitUntilHeld(3); // all three are in the backend at once

        _disk.Release(16 * 512);
        WaitForUsed(1);
        _disk.Release(0);
        WaitForUsed(2);
        _disk.Release(8 * 512);
        WaitForUsed(3);

        _queue.Used(0).Should().Be((c, 1537u));
        _queue.Used(1).Should().Be((a, 513u));
        _queue.Used(2).Should().Be((b, 1025u));
        foreach (var (head, sector, length) in new[] { (a, 0, 512), (b, 8, 1024), (c, 16, 1536) })
        {
            StatusOf(head, 3).Should().Be(VirtioBlock.StatusOk);
            DataOf(head, length).Should().Equal(_disk.Bytes(sector * 512, length));
        }

        _block.InPlaceRequests.Should().Be(3);
        _block.BouncedRequests.Should().Be(0);
        _block.MaxInFlightSeen.Should().Be(3);
        _block.BytesRead.Should().Be(512 + 1024 + 1536);
    }

    [Fact]
    public void A_request_alone_is_served_by_the_worker_itself()
    {
        Start();
        ushort head = AddRead(4, 4096);
        _driver.Notify(0);
        WaitForUsed(1);

        StatusOf(head, 3).Should().Be(VirtioBlock.StatusOk);
        DataOf(head, 4096).Should().Equal(_disk.Bytes(4 * 512, 4096));
        _block.IoThreads.Should().Be(0, "nothing else was waiting, so no thread hop");
        _block.MaxInFlightSeen.Should().Be(1);
        _memory.ViewsTaken.Should().Be(1, "the data went straight into the guest's buffer");
    }

    [Fact]
    public void With_EVENT_IDX_completions_out_of_order_interrupt_only_when_the_used_index_passes_used_event()
    {
        Start(features: VirtioFeatures.Version1 | VirtioFeatures.RingEventIndex | VirtioBlock.FeatureFlush);
        _queue.SetUsedEvent(1); // interrupt when the used index moves past 1
        _disk.Hold(0, 8 * 512, 16 * 512);
        AddRead(0, 512);
        AddRead(8, 512);
        AddRead(16, 512);
        _driver.Notify(0);
        _disk.WaitUntilHeld(3);
        _msi.Clear();

        _disk.Release(8 * 512);
        WaitForUsed(1);
        _disk.Release(16 * 512);
        WaitForUsed(2);
        _disk.Release(0);
        WaitForUsed(3);

        // A request that must interrupt: the worker handles completions in order, so once its interrupt is in, any
        // interrupt for the three before it would be too.
        _queue.SetUsedEvent(3);
        ushort flush = _queue.AddChain(Readable(Header(VirtioBlock.RequestFlush, 0)), Writable(1));
        _driver.Notify(0);
        WaitForUsed(4);
        _queue.Used(3).Id.Should().Be(flush);
        SpinWait.SpinUntil(() => _msi.SignalCount(QueueVector) == 2, TimeSpan.FromSeconds(10)).Should().BeTrue();
        _msi.SignalCount(QueueVector).Should().Be(2, "one when the used index reached 2, one for the flush");
        _queue.AvailEvent.Should().Be(4, "the device asks to be told of the next request");
    }

    [Fact]
    public void A_buffer_not_aligned_as_O_DIRECT_needs_is_copied_through_the_bounce_buffer()
    {
        Start(alignment: 512);

        // Aligned: in place.
        ushort aligned = AddRead(2, 4096);
        _driver.Notify(0);
        WaitForUsed(1);
        DataOf(aligned, 4096).Should().Equal(_disk.Bytes(2 * 512, 4096));
        _block.InPlaceRequests.Should().Be(1);

        // The data buffer 16 bytes into a page (right after the header): bounced.
        ushort unaligned = _queue.AddChain(Readable(Header(VirtioBlock.RequestIn, 3)), Writable(1024), Writable(1));
        (_queue.BufferAddress((ushort)(unaligned + 1)) % 512).Should().NotBe(0ul);
        _driver.Notify(0);
        WaitForUsed(2);
        StatusOf(unaligned, 3).Should().Be(VirtioBlock.StatusOk);
        DataOf(unaligned, 1024).Should().Equal(_disk.Bytes(3 * 512, 1024));

        // Aligned addresses, but a piece that is not a whole number of sectors: bounced.
        _queue.AddChain(Readable(Header(VirtioBlock.RequestIn, 5)), WritableAt(512, 256), WritableAt(512, 256), Writable(1));
        // Header and data in one descriptor: the data start 16 bytes in, bounced.
        byte[] payload = Enumerable.Repeat((byte)0x6B, 512).ToArray();
        _queue.AddChain(Readable([.. Header(VirtioBlock.RequestOut, 40), .. payload]), Writable(1));
        // A write with its data on a page of its own: in place.
        byte[] payload2 = Enumerable.Repeat((byte)0x7C, 1024).ToArray();
        _queue.AddChain(Readable(Header(VirtioBlock.RequestOut, 50)), ReadableAt(4096, payload2), Writable(1));
        _driver.Notify(0);
        WaitForUsed(5);

        _block.BouncedRequests.Should().Be(3);
        _block.InPlaceRequests.Should().Be(2);
        _disk.MisalignedCalls.Should().Be(0, "the backend never saw a buffer O_DIRECT would refuse");
        _disk.Bytes(40 * 512, 512).Should().Equal(payload);
        _disk.Bytes(50 * 512, 1024).Should().Equal(payload2);
        for (int i = 0; i < 5; i++)
        {
            var (head, _) = _queue.Used(i);
            byte status = _memory.ReadBytes(StatusAddress(head), 1)[0];
            status.Should().Be(VirtioBlock.StatusOk);
        }
    }

    [Fact]
    public void Guest_memory_that_will_not_view_a_buffer_is_copied_instead()
    {
        Start();
        _memory.RefuseViews = true;
        ushort head = AddRead(6, 2048);
        _driver.Notify(0);
        WaitForUsed(1);

        StatusOf(head, 3).Should().Be(VirtioBlock.StatusOk);
        DataOf(head, 2048).Should().Equal(_disk.Bytes(6 * 512, 2048));
        _block.BouncedRequests.Should().Be(1);
        _block.InPlaceRequests.Should().Be(0);
    }

    [Fact]
    public void A_chain_outside_RAM_while_requests_are_in_flight_means_NEEDS_RESET_and_nothing_more_is_published()
    {
        Start();
        _disk.Hold(0, 8 * 512);
        AddRead(0, 512);
        AddRead(8, 512);
        _driver.Notify(0);
        _disk.WaitUntilHeld(2);

        // The next chain's data descriptor points past the end of RAM.
        ushort bad = _queue.AddChain(Readable(Header(VirtioBlock.RequestIn, 0)), Writable(512), Writable(1));
        _queue.SetDescriptor((ushort)(bad + 1), _memory.End + 0x1000, 512, FakeVirtQueue.FlagWrite | FakeVirtQueue.FlagNext, (ushort)(bad + 2));
        _driver.Notify(0);
        SpinWait.SpinUntil(() => _driver.Status.HasFlag(VirtioDeviceStatus.DeviceNeedsReset), TimeSpan.FromSeconds(10)).Should().BeTrue();
        _block.LastError.Should().Contain("BufferOutsideMemory");

        _disk.ReleaseAll();
        SpinWait.SpinUntil(() => _disk.Finished == 2, TimeSpan.FromSeconds(10)).Should().BeTrue();
        _driver.Status = VirtioDeviceStatus.None; // the driver resets: it returns once nothing runs any more
        _disk.Active.Should().Be(0);
        _queue.UsedIndex.Should().Be(0, "after NEEDS_RESET no completion reaches the used ring");

        // The device serves again after the reset, with every request slot back.
        StartQueue(queueBase: 0x40000);
        ushort head = AddRead(1, 512);
        _driver.Notify(0);
        WaitForUsed(1);
        StatusOf(head, 3).Should().Be(VirtioBlock.StatusOk);
        DataOf(head, 512).Should().Equal(_disk.Bytes(512, 512));
    }

    [Fact]
    public async Task Reset_waits_for_requests_in_flight_and_publishes_none_of_them()
    {
        Start();
        _disk.Hold(0, 8 * 512);
        AddRead(0, 512);
        AddRead(8, 512);
        _driver.Notify(0);
        _disk.WaitUntilHeld(2);

        var reset = Task.Run(() => _driver.Status = VirtioDeviceStatus.None, TestContext.Current.CancellationToken);
        var early = await Task.WhenAny(reset, Task.Delay(200, TestContext.Current.CancellationToken));
        early.Should().NotBeSameAs(reset, "reads are still writing guest memory");
        _disk.Active.Should().Be(2);

        _disk.ReleaseAll();
        await reset.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        _disk.Active.Should().Be(0);
        _queue.UsedIndex.Should().Be(0);
    }

    [Fact]
    public void Failed_IO_in_flight_answers_IOERR_for_that_request_only()
    {
        Start();
        _disk.Hold(0, 8 * 512);
        _disk.FailAt = 8 * 512;
        ushort good = AddRead(0, 512), failing = AddRead(8, 512);
        _driver.Notify(0);
        _disk.WaitUntilHeld(2);
        _disk.ReleaseAll();
        WaitForUsed(2);

        StatusOf(good, 3).Should().Be(VirtioBlock.StatusOk);
        StatusOf(failing, 3).Should().Be(VirtioBlock.StatusIoError);
        _block.FailedRequests.Should().Be(1);
        _driver.Status.Should().NotHaveFlag(VirtioDeviceStatus.DeviceNeedsReset, "an I/O error is the request's, not the device's");
        (_queue.Used(0).Length + _queue.Used(1).Length).Should().Be(513 + 1, "a failed read wrote only its status");
    }

    /// <summary>Where the last writable descriptor of the chain at <paramref name="head"/> ends (its status byte).</summary>
    private ulong StatusAddress(ushort head)
    {
        ushort index = head;
        while (true)
        {
            ulong at = _queue.DescriptorTable + (16UL * index);
            ushort flags = _memory.ReadU16(at + 12);
            if ((flags & FakeVirtQueue.FlagNext) == 0)
            {
                return BitConverter.ToUInt64(_memory.ReadBytes(at, 8)) + _memory.ReadU32(at + 8) - 1;
            }

            index = _memory.ReadU16(at + 14);
        }
    }

    /// <summary>
    /// An in-memory disk. Reads at the offsets given to <see cref="Hold"/> wait until released; every call checks its
    /// buffers against <see cref="RequiredAlignment"/> (host addresses too, through the pinned arrays behind them).
    /// </summary>
    private sealed class GatedDisk(int size) : IBlockBackend
    {
        private readonly byte[] _image = [.. Enumerable.Range(0, size).Select(i => (byte)(i * 7))];
        private readonly Dictionary<long, ManualResetEventSlim> _gates = [];
        private readonly Lock _lock = new();
        private int _held, _active, _finished, _misaligned;

        public long Length => _image.Length;

        public bool IsReadOnly => false;

        public bool SupportsDiscard => false;

        public string? LastError { get; private set; }

        public int RequiredAlignment { get; set; } = 1;

        public long FailAt { get; set; } = -1;

        public int Active => Volatile.Read(ref _active);

        public int Finished => Volatile.Read(ref _finished);

        public int MisalignedCalls => Volatile.Read(ref _misaligned);

        public byte[] Bytes(long offset, int length)
        {
            lock (_lock)
            {
                return _image.AsSpan((int)offset, length).ToArray();
            }
        }

        public void Hold(params long[] offsets)
        {
            lock (_lock)
            {
                foreach (long offset in offsets)
                {
                    _gates[offset] = new ManualResetEventSlim(false);
                }
            }
        }

        public void Release(long offset)
        {
            lock (_lock)
            {
                _gates[offset].Set();
            }
        }

        public void ReleaseAll()
        {
            lock (_lock)
            {
                foreach (var gate in _gates.Values)
                {
                    gate.Set();
                }
            }
        }

        public void WaitUntilHeld(int count) =>
            SpinWait.SpinUntil(() => Volatile.Read(ref _held) == count, TimeSpan.FromSeconds(10)).Should().BeTrue($"{count} requests reach the disk together");

        public bool Read(long offset, Span<byte> destination)
        {
            Enter(offset, destination.Length, default);
            bool ok = offset != FailAt;
            if (ok)
            {
                Bytes(offset, destination.Length).CopyTo(destination);
            }

            return Leave(ok);
        }

        public bool Read(long offset, IReadOnlyList<Memory<byte>> destinations)
        {
            Enter(offset, 0, destinations.Select(d => (ReadOnlyMemory<byte>)d));
            bool ok = offset != FailAt;
            for (int i = 0; ok && i < destinations.Count; i++)
            {
                Bytes(offset, destinations[i].Length).CopyTo(destinations[i].Span);
                offset += destinations[i].Length;
            }

            return Leave(ok);
        }

        public bool Write(long offset, ReadOnlySpan<byte> source)
        {
            Enter(offset, source.Length, default);
            lock (_lock)
            {
                source.CopyTo(_image.AsSpan((int)offset));
            }

            return Leave(true);
        }

        public bool Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> sources)
        {
            Enter(offset, 0, sources);
            lock (_lock)
            {
                foreach (var source in sources)
                {
                    source.Span.CopyTo(_image.AsSpan((int)offset));
                    offset += source.Length;
                }
            }

            return Leave(true);
        }

        public bool Flush() => true;

        public bool Discard(long offset, long length) => false;

        public bool WriteZeroes(long offset, long length, bool mayUnmap) => false;

        public void Dispose() => ReleaseAll();

        private void Enter(long offset, int spanLength, IEnumerable<ReadOnlyMemory<byte>>? vectors)
        {
            Interlocked.Increment(ref _active);
            bool aligned = offset % RequiredAlignment == 0 && spanLength % RequiredAlignment == 0;
            foreach (var vector in vectors ?? [])
            {
                MemoryMarshal.TryGetArray(vector, out var segment).Should().BeTrue("FakeGuestMemory is an array");
                long address = Marshal.UnsafeAddrOfPinnedArrayElement(segment.Array!, segment.Offset).ToInt64();
                aligned &= address % RequiredAlignment == 0 && vector.Length % RequiredAlignment == 0;
            }

            if (!aligned)
            {
                Interlocked.Increment(ref _misaligned);
            }

            ManualResetEventSlim? gate;
            lock (_lock)
            {
                _gates.TryGetValue(offset, out gate);
            }

            if (gate is not null)
            {
                Interlocked.Increment(ref _held);
                gate.Wait(TimeSpan.FromSeconds(30));
            }
        }

        private bool Leave(bool ok)
        {
            if (!ok)
            {
                LastError = "failed as asked";
            }

            Interlocked.Increment(ref _finished);
            Interlocked.Decrement(ref _active);
            return ok;
        }
    }
}
