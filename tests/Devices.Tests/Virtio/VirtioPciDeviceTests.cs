using System.Buffers.Binary;
using Platform.Devices.Pci;
using Platform.Devices.Tests.Fakes;
using Platform.Devices.Virtio;

namespace Platform.Devices.Tests.Virtio;

// The transport as Linux's virtio_pci_modern sees it: capabilities in config space, registers in BAR 0.
public sealed class VirtioPciDeviceTests
{
    private readonly FakeGuestMemory _memory = new(1 << 20);
    private readonly RecordingMsiTarget _msi = new();
    private readonly RecordingInterruptLine _intx = new();
    private readonly RecordingVirtioDevice _device = new(16, 16);
    private readonly VirtioPciDevice _transport;
    private readonly VirtioPciDriver _driver;

    public VirtioPciDeviceTests()
    {
        _transport = new VirtioPciDevice(_device, _memory, _msi, _intx);
        _driver = new VirtioPciDriver(_transport);
    }

    private FakeVirtQueue[] TwoQueues() => [new FakeVirtQueue(_memory, 16, 0x1000), new FakeVirtQueue(_memory, 16, 0x10000)];

    [Fact]
    public void It_identifies_as_a_modern_virtio_device_on_the_PCI_bus()
    {
        var bus = new PciBus();
        var ports = new PciConfigPorts(new PciHostBridge(bus));
        bus.Attach(1, _transport);

        ports.Read16(1, PciRegisters.VendorId).Should().Be(0x1AF4);
        ports.Read16(1, PciRegisters.DeviceId).Should().Be(0x1044, "0x1040 + 4 (entropy)");
        ports.Read8(1, PciRegisters.RevisionId).Should().Be(1);
        ports.Read16(1, PciRegisters.SubsystemId).Should().BeGreaterThanOrEqualTo(0x40);
        ports.SizeBar(1, 0).Should().Be(VirtioPciDevice.SettingsBarSize);
        (ports.Read32(1, PciRegisters.Bar0) & 0b110).Should().Be(PciRegisters.BarMemory64Bit);
        int msix = ports.FindCapability(1, PciRegisters.CapabilityIdMsix);
        (ports.Read16(1, msix + 2) & 0x7FF).Should().Be(2, "one vector per queue plus configuration: 3 vectors");
    }

    [Fact]
    public void Vendor_capabilities_point_at_each_structure_in_BAR_0()
    {
        var found = new Dictionary<byte, (byte Bar, uint Offset, uint Length, int At)>();
        var raw = new byte[16];
        for (int i = 0; ; i++)
        {
            int cap = _driver.FindCapability(PciRegisters.CapabilityIdVendor, i);
            if (cap == 0)
            {
                break;
            }

            _transport.ReadConfig(cap, raw);
            found[raw[3]] = (raw[4], BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(8)), BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(12)), cap);
        }

        found.Keys.Should().BeEquivalentTo(new byte[] { 1, 2, 3, 4, 5 });
        found[1].Should().Be((0, 0x0000u, 0x38u, found[1].At));
        found[2].Offset.Should().Be(0x3000);
        found[2].Length.Should().Be(8, "two queues, 4 bytes apart");
        found[3].Should().Be((0, 0x1000u, 1u, found[3].At));
        found[4].Should().Be((0, 0x2000u, 8u, found[4].At));
        Span<byte> multiplier = stackalloc byte[4];
        _transport.ReadConfig(found[2].At + 16, multiplier);
        BinaryPrimitives.ReadUInt32LittleEndian(multiplier).Should().Be(4);
    }

    [Fact]
    public void The_device_offers_its_features_plus_version_1_indirect_and_event_idx()
    {
        _driver.ReadDeviceFeatures().Should().Be((1UL << 5) | VirtioFeatures.Version1 |
            VirtioFeatures.RingIndirectDescriptors | VirtioFeatures.RingEventIndex);
    }

    [Fact]
    public void A_full_initialization_activates_the_device_with_the_negotiated_features_and_queues()
    {
        var status = _driver.Initialize(msix: true, VirtioFeatures.Version1 | (1UL << 5), TwoQueues());

        status.Should().Be(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.FeaturesOk | VirtioDeviceStatus.DriverOk);
        var activation = _device.Activations.Should().ContainSingle().Subject;
        activation.Features.Should().Be(VirtioFeatures.Version1 | (1UL << 5));
        activation.Queues.Should().HaveCount(2).And.OnlyContain(q => q != null && q.IsActive);
        _transport.NegotiatedFeatures.Should().Be(VirtioFeatures.Version1 | (1UL << 5));
    }

    [Fact]
    public void FEATURES_OK_is_refused_without_VERSION_1()
    {
        _driver.Initialize(msix: false, 1UL << 5).Should().NotHaveFlag(VirtioDeviceStatus.FeaturesOk);
    }

    [Fact]
    public void FEATURES_OK_is_refused_for_a_feature_the_device_did_not_offer()
    {
        _driver.Initialize(msix: false, VirtioFeatures.Version1 | (1UL << 6)).Should().NotHaveFlag(VirtioDeviceStatus.FeaturesOk);
    }

    [Fact]
    public void DRIVER_OK_without_FEATURES_OK_does_not_start_the_device()
    {
        _driver.Status = VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.DriverOk;
        _driver.Status.Should().NotHaveFlag(VirtioDeviceStatus.DriverOk);
        _device.Activations.Should().BeEmpty();
    }

    [Fact]
    public void Queue_registers_report_sizes_and_a_missing_queue_reads_size_0()
    {
        _driver.Read16(0x12).Should().Be(2, "num_queues");
        _driver.Write16(VirtioPciDriver.QueueSelect, 1);
        _driver.Read16(VirtioPciDriver.QueueSize).Should().Be(16);
        _driver.Read16(0x1E).Should().Be(1, "queue_notify_off = index");
        _driver.Write16(VirtioPciDriver.QueueSelect, 2);
        _driver.Read16(VirtioPciDriver.QueueSize).Should().Be(0);
    }

    [Fact]
    public void A_vector_outside_the_MSI_X_table_reads_back_as_NO_VECTOR()
    {
        _driver.Write16(VirtioPciDriver.ConfigVectorRegister, 3);
        _driver.Read16(VirtioPciDriver.ConfigVectorRegister).Should().Be(VirtioPciDevice.NoVector);
        _driver.Write16(VirtioPciDriver.ConfigVectorRegister, 2);
        _driver.Read16(VirtioPciDriver.ConfigVectorRegister).Should().Be(2);
        _driver.Write16(VirtioPciDriver.QueueVector, 7);
        _driver.Read16(VirtioPciDriver.QueueVector).Should().Be(VirtioPciDevice.NoVector);
    }

    [Fact]
    public void Queue_addresses_accept_dword_halves_and_qwords_and_freeze_once_enabled()
    {
        _driver.Write32(0x20, 0x1234_5000);
        _driver.Write32(0x24, 0x1);
        _driver.Read32(0x20).Should().Be(0x1234_5000);
        _driver.Read32(0x24).Should().Be(1);
        _transport.WriteBar(0, 0x28, BitConverter.GetBytes(0x0000_0002_0000_1000UL));
        _driver.Read32(0x2C).Should().Be(2);

        _driver.Write16(VirtioPciDriver.QueueEnable, 1);
        _driver.Write32(0x20, 0);
        _driver.Read32(0x20).Should().Be(0x1234_5000);
        _driver.Write16(VirtioPciDriver.QueueSize, 4);
        _driver.Read16(VirtioPciDriver.QueueSize).Should().Be(16);
        _transport.BadAccesses.Should().Be(2);
    }

    [Fact]
    public void Notifications_reach_the_device_only_after_DRIVER_OK()
    {
        _transport.QueueNotifyLocation(1).Should().Be(new PciBarLocation(0, 0x3004));
        _driver.Notify(1);
        _device.Notifications.Should().Be(0);

        _driver.Initialize(msix: true, null, TwoQueues());
        _driver.Notify(1);
        _transport.Notify(0); // the ioeventfd path
        _device.Notifications.Should().Be(2);
        _transport.Notifications.Should().Be(2);
    }

    [Fact]
    public void Writing_status_0_resets_the_device_and_the_queue_setup()
    {
        _driver.Initialize(msix: true, null, TwoQueues());
        int resetsBefore = _device.Resets;
        _driver.Status = VirtioDeviceStatus.None;

        _device.Resets.Should().Be(resetsBefore + 1);
        _driver.Status.Should().Be(VirtioDeviceStatus.None);
        _driver.Write16(VirtioPciDriver.QueueSelect, 0);
        _driver.Read16(VirtioPciDriver.QueueEnable).Should().Be(0);
        _driver.Read32(0x20).Should().Be(0);
        _driver.Read16(VirtioPciDriver.QueueVector).Should().Be(VirtioPciDevice.NoVector);
        _driver.Notify(0);
        _device.Notifications.Should().Be(0);
    }

    [Fact]
    public void A_queue_layout_outside_RAM_puts_the_device_into_NEEDS_RESET_with_a_config_interrupt()
    {
        var queues = TwoQueues();
        _driver.Initialize(msix: true, null, queues[0]);
        _driver.Status = VirtioDeviceStatus.None;
        _msi.Clear();

        _driver.Status = VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver;
        _driver.WriteDriverFeatures(VirtioFeatures.Version1);
        _driver.Status |= VirtioDeviceStatus.FeaturesOk;
        _driver.EnableMsix();
        _driver.Write16(VirtioPciDriver.ConfigVectorRegister, 0);
        _driver.Write16(VirtioPciDriver.QueueSelect, 0);
        _driver.Write32(0x20, 0x4000_0000); // far past the 1 MiB of RAM
        _driver.Write16(VirtioPciDriver.QueueEnable, 1);
        _driver.Status |= VirtioDeviceStatus.DriverOk;

        _driver.Status.Should().HaveFlag(VirtioDeviceStatus.DeviceNeedsReset);
        _transport.DeviceErrors.Should().Be(1);
        _transport.LastDeviceError.Should().Contain("BadLayout");
        _msi.Signals.Should().ContainSingle().Which.Vector.Should().Be(0);
        _device.Activations.Should().HaveCount(1, "only the first, valid, initialization activated");

        _driver.Status = VirtioDeviceStatus.None;
        _driver.Status.Should().Be(VirtioDeviceStatus.None, "a reset clears NEEDS_RESET");
    }

    [Fact]
    public void Device_configuration_is_reached_at_0x2000_within_its_size()
    {
        _driver.Read32(0x2004).Should().Be(0x0807_0605);
        _driver.Write8(0x2001, 0xAA);
        _driver.Read8(0x2001).Should().Be(0xAA);
        _driver.Read32(0x2006).Should().Be(0, "a read past the 8 bytes is refused");
        _transport.BadAccesses.Should().Be(1);
    }

    [Fact]
    public void Without_MSI_X_used_buffers_raise_INTx_and_the_ISR_read_clears_it()
    {
        _driver.Initialize(msix: false, null, TwoQueues());
        _transport.SignalUsedBuffers(1);
        _intx.Asserted.Should().BeTrue();
        _driver.Read8(VirtioPciDevice.IsrOffset).Should().Be(1);
        _intx.Asserted.Should().BeFalse();
        _driver.Read8(VirtioPciDevice.IsrOffset).Should().Be(0);

        byte generation = _driver.Read8(VirtioPciDriver.GenerationRegister);
        _transport.SignalConfigChanged();
        _driver.Read8(VirtioPciDriver.GenerationRegister).Should().Be((byte)(generation + 1));
        _driver.Read8(VirtioPciDevice.IsrOffset).Should().Be(2);
    }

    [Fact]
    public void With_MSI_X_used_buffers_go_to_the_queues_vector_and_NO_VECTOR_sends_nothing()
    {
        _driver.Initialize(msix: true, null, TwoQueues());
        _transport.SignalUsedBuffers(1);
        _msi.Signals.Should().Equal((2, new MsiMessage(0xFEE0_0000, 0x42)));
        _intx.Asserted.Should().BeFalse();

        _msi.Clear();
        _driver.Write16(VirtioPciDriver.QueueSelect, 0);
        _driver.Write16(VirtioPciDriver.QueueVector, VirtioPciDevice.NoVector);
        _transport.SignalUsedBuffers(0);
        _msi.Signals.Should().BeEmpty();
        _intx.Asserted.Should().BeFalse();
    }

    [Fact]
    public void The_PCI_configuration_access_capability_reads_and_writes_BAR_0()
    {
        int cap = _driver.FindCapability(PciRegisters.CapabilityIdVendor, 4);
        Span<byte> b = stackalloc byte[1];
        _transport.ReadConfig(cap + 3, b);
        b[0].Should().Be(5, "the fifth vendor capability is VIRTIO_PCI_CAP_PCI_CFG");

        _transport.WriteConfig(cap + 4, [0]);                     // bar
        _transport.WriteConfig(cap + 8, [0x14, 0, 0, 0]);         // offset: device_status
        _transport.WriteConfig(cap + 12, [1, 0, 0, 0]);           // length
        _transport.WriteConfig(cap + 16, [(byte)VirtioDeviceStatus.Acknowledge, 0, 0, 0]);
        _driver.Status.Should().Be(VirtioDeviceStatus.Acknowledge);
        _transport.ReadConfig(cap + 16, b);
        b[0].Should().Be((byte)VirtioDeviceStatus.Acknowledge);
    }

    [Fact]
    public void Common_configuration_writes_of_the_wrong_width_are_counted_and_ignored()
    {
        _driver.Write32(VirtioPciDriver.QueueSelect, 1);
        _driver.Write8(0x04, 1);
        _driver.Read16(VirtioPciDriver.QueueSelect).Should().Be(0);
        _transport.BadAccesses.Should().Be(2);
    }
}
