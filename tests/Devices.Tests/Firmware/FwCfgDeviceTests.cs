using System.Buffers.Binary;
using System.Text;
using Platform.Devices.Firmware;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Firmware;

// fw_cfg driven as SeaBIOS drives it: select with a 16-bit write to 0x510, bytes from 0x511, DMA requests through
// 0x514/0x518 (offsets 0, 1, 4 and 8), and the file directory read to find a file by name.
public sealed class FwCfgDeviceTests
{
    private const ulong Selector = 0, Data = 1, DmaHigh = 4, DmaLow = 8;
    // fw_cfg's DMA control bits; bit 2 moves the data offset on without transferring anything.
    private const uint DmaError = 1, DmaRead = 2, DmaAdvance = 4, DmaSelect = 8, DmaWrite = 0x10;
    private const ulong Request = 0x1000, Buffer = 0x2000;

    private readonly FakeGuestMemory _memory = new(1 << 20);
    private readonly FwCfgDevice _device;

    public FwCfgDeviceTests()
    {
        var contents = new FwCfgContents()
            .AddItem(FwCfgKeys.CpuCount, (ushort)2)
            .AddItem(FwCfgKeys.RamSize, 128UL << 20)
            .AddFile("etc/e820", Enumerable.Range(0, 40).Select(i => (byte)i).ToArray())
            .AddFile("bootorder", "/pci@i0cf8/*@2\n"u8);
        _device = new FwCfgDevice(contents, _memory);
    }

    private void Select(ushort key)
    {
        Span<byte> word = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(word, key);
        _device.Write(Selector, word);
    }

    private byte[] ReadBytes(int count)
    {
        byte[] bytes = new byte[count];
        for (int i = 0; i < count; i++)
        {
            _device.Read(Data, bytes.AsSpan(i, 1));
        }

        return bytes;
    }

    /// <summary>A DMA request as SeaBIOS makes one: the struct in guest memory, its address written low half last.</summary>
    private uint Dma(uint control, uint length, ulong address, ulong request = Request)
    {
        var header = _memory.Span(request, 16);
        BinaryPrimitives.WriteUInt32BigEndian(header, control);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], length);
        BinaryPrimitives.WriteUInt64BigEndian(header[8..], address);
        Span<byte> half = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(half, (uint)(request >> 32));
        _device.Write(DmaHigh, half);
        BinaryPrimitives.WriteUInt32BigEndian(half, (uint)request);
        _device.Write(DmaLow, half);
        return BinaryPrimitives.ReadUInt32BigEndian(_memory.Span(request, 4));
    }

    [Fact]
    public void The_signature_reads_QEMU_and_the_ID_offers_DMA()
    {
        Select(FwCfgKeys.Signature);
        ReadBytes(4).Should().Equal("QEMU"u8.ToArray());

        Select(FwCfgKeys.Id);
        BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)).Should().Be(FwCfgKeys.IdTraditional | FwCfgKeys.IdDma);
    }

    [Fact]
    public void Numbered_items_are_little_endian_and_read_zeros_past_their_end()
    {
        Select(FwCfgKeys.CpuCount);
        ReadBytes(4).Should().Equal(2, 0, 0, 0);

        Select(FwCfgKeys.RamSize);
        BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8)).Should().Be(128UL << 20);
    }

    [Fact]
    public void An_unknown_key_reads_as_zeros_and_the_write_channel_bit_is_not_part_of_the_key()
    {
        Select(0x1234);
        ReadBytes(3).Should().Equal(0, 0, 0);

        Select(FwCfgKeys.CpuCount | FwCfgKeys.WriteChannel);
        ReadBytes(2).Should().Equal(2, 0);
    }

    [Fact]
    public void The_directory_lists_files_in_name_order_with_big_endian_sizes_and_keys()
    {
        Select(FwCfgKeys.FileDirectory);
        byte[] count = ReadBytes(4);
        BinaryPrimitives.ReadUInt32BigEndian(count).Should().Be(2);

        var entries = Enumerable.Range(0, 2).Select(_ => ReadBytes(64)).ToArray();
        var names = entries.Select(e => Encoding.ASCII.GetString(e, 8, 56).TrimEnd('\0')).ToArray();
        names.Should().Equal("bootorder", "etc/e820");
        BinaryPrimitives.ReadUInt32BigEndian(entries[1]).Should().Be(40);
        BinaryPrimitives.ReadUInt16BigEndian(entries[0].AsSpan(4)).Should().Be(FwCfgKeys.FirstFile);
        ushort e820 = BinaryPrimitives.ReadUInt16BigEndian(entries[1].AsSpan(4));
        e820.Should().Be(FwCfgKeys.FirstFile + 1);

        Select(e820);
        ReadBytes(40).Should().Equal(Enumerable.Range(0, 40).Select(i => (byte)i));
    }

    [Fact]
    public void A_DMA_read_selects_copies_and_zero_fills_then_clears_its_control_word()
    {
        _memory.Span(Buffer, 64).Fill(0xAA);

        uint control = Dma(((uint)FwCfgKeys.FirstFile + 1) << 16 | DmaSelect | DmaRead, 48, Buffer);

        control.Should().Be(0, "done, without the error bit");
        _memory.ReadBytes(Buffer, 40).Should().Equal(Enumerable.Range(0, 40).Select(i => (byte)i));
        _memory.ReadBytes(Buffer + 40, 8).Should().OnlyContain(b => b == 0, "past the item's end a read gives zeros");
        _memory.ReadBytes(Buffer + 48, 16).Should().OnlyContain(b => b == 0xAA, "nothing past the request's length is touched");
        _device.DmaTransfers.Should().Be(1);
    }

    [Fact]
    public void DMA_skip_and_read_continue_where_the_port_left_off()
    {
        Select((ushort)(FwCfgKeys.FirstFile + 1));
        ReadBytes(2).Should().Equal(0, 1);

        Dma(DmaAdvance, 8, 0).Should().Be(0);
        Dma(DmaRead, 4, Buffer).Should().Be(0);

        _memory.ReadBytes(Buffer, 4).Should().Equal(10, 11, 12, 13);
        ReadBytes(1).Should().Equal(14);
    }

    [Fact]
    public void Bad_DMA_requests_end_with_the_error_bit_and_never_touch_memory_outside_RAM()
    {
        Dma(DmaSelect | ((uint)FwCfgKeys.CpuCount << 16) | DmaRead, 16, (1UL << 20) - 8).Should().Be(DmaError, "the buffer runs past RAM");
        Dma(DmaSelect | ((uint)FwCfgKeys.CpuCount << 16) | DmaWrite, 2, Buffer).Should().Be(DmaError, "no item is writable");
        Dma(DmaRead, uint.MaxValue, Buffer).Should().Be(DmaError);

        _device.Write(DmaHigh, [0, 0, 0, 1]);
        _device.Write(DmaLow, [0, 0, 0x10, 0]); // a request at 4 GiB + 0x1000: nothing to read, nowhere to answer

        _device.DmaErrors.Should().Be(4);
    }

    [Fact]
    public void Reading_the_DMA_register_gives_its_signature()
    {
        byte[] signature = new byte[8];
        _device.Read(DmaHigh, signature.AsSpan(0, 4));
        _device.Read(DmaLow, signature.AsSpan(4, 4));

        Encoding.ASCII.GetString(signature).Should().Be("QEMU CFG");
    }

    [Theory]
    [InlineData(Data, 1)]
    [InlineData(Selector, 1)]
    [InlineData(Selector, 4)]
    [InlineData(DmaHigh, 2)]
    [InlineData(2UL, 1)]
    public void Nonsense_writes_are_counted_and_change_nothing(ulong offset, int width)
    {
        Select(FwCfgKeys.CpuCount);

        _device.Write(offset, new byte[width]);

        _device.BadAccesses.Should().Be(1);
        ReadBytes(2).Should().Equal(2, 0);
    }

    [Fact]
    public void File_names_must_fit_the_directory_and_be_unique()
    {
        var contents = new FwCfgContents().AddFile("etc/e820", []);

        contents.Invoking(c => c.AddFile("etc/e820", [])).Should().Throw<ArgumentException>();
        contents.Invoking(c => c.AddFile(new string('x', 56), [])).Should().Throw<ArgumentException>();
        contents.Invoking(c => c.AddItem(FwCfgKeys.Signature, [1])).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void A_generated_file_is_made_once_when_first_selected_with_the_length_the_directory_gave()
    {
        int calls = 0;
        var contents = new FwCfgContents()
            .AddGeneratedFile("etc/acpi/tables", 3, () => { calls++; return [7, 8, 9]; })
            .AddGeneratedFile("etc/wrong", 2, () => [1]);
        var device = new FwCfgDevice(contents, _memory);
        calls.Should().Be(0, "nothing is made before the firmware asks");
        Span<byte> word = stackalloc byte[2];

        BinaryPrimitives.WriteUInt16LittleEndian(word, FwCfgKeys.FirstFile);
        device.Write(Selector, word);
        byte[] read = new byte[3];
        for (int i = 0; i < 3; i++)
        {
            device.Read(Data, read.AsSpan(i, 1));
        }

        device.Write(Selector, word);
        read.Should().Equal(7, 8, 9);
        calls.Should().Be(1);
        BinaryPrimitives.WriteUInt16LittleEndian(word, FwCfgKeys.FirstFile + 1);
        byte[] wrong = word.ToArray();
        device.Invoking(d => d.Write(Selector, wrong)).Should().Throw<InvalidOperationException>().WithMessage("*1 bytes*says 2*");
    }
}
