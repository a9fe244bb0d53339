namespace Platform.Devices.Pci;

/// <summary>
/// The host bridge at 00:00.0. Linux's type-1 probe (<c>pci_sanity_check</c>) looks for a host-bridge class or an
/// Intel/Compaq vendor on bus 0 before it trusts ports 0xCF8/0xCFC, so this function must exist. It has no BARs
/// and no interrupt. IDs as Cloud Hypervisor's bridge (Intel, a device ID with no Linux quirks attached).
/// </summary>
public sealed class PciHostBridgeFunction : PciFunction
{
    public const ushort IntelVendorId = 0x8086;
    public const ushort BridgeDeviceId = 0x0D57;
    public const uint HostBridgeClass = 0x06_00_00;

    public PciHostBridgeFunction()
        : base(new PciConfigSpace(IntelVendorId, BridgeDeviceId, HostBridgeClass), intx: null)
    {
    }

    protected override void OnBarRead(int barIndex, ulong offset, Span<byte> data) => data.Clear();

    protected override void OnBarWritten(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
    }
}
