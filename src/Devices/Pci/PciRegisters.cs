namespace Platform.Devices.Pci;

/// <summary>Offsets and bits of the type-0 configuration header (PCI Local Bus 3.0, chapter 6).</summary>
public static class PciRegisters
{
    public const int VendorId = 0x00;
    public const int DeviceId = 0x02;
    public const int Command = 0x04;
    public const int Status = 0x06;
    public const int RevisionId = 0x08;
    public const int ClassCode = 0x09;
    public const int CacheLineSize = 0x0C;
    public const int LatencyTimer = 0x0D;
    public const int HeaderType = 0x0E;
    public const int Bar0 = 0x10;
    public const int BarCount = 6;
    public const int SubsystemVendorId = 0x2C;
    public const int SubsystemId = 0x2E;
    public const int ExpansionRom = 0x30;
    public const int CapabilitiesPointer = 0x34;
    public const int InterruptLine = 0x3C;
    public const int InterruptPin = 0x3D;

    public const ushort CommandIoSpace = 1 << 0;
    public const ushort CommandMemorySpace = 1 << 1;
    public const ushort CommandBusMaster = 1 << 2;
    public const ushort CommandParityErrorResponse = 1 << 6;
    public const ushort CommandSerr = 1 << 8;
    public const ushort CommandInterruptDisable = 1 << 10;

    /// <summary>Command bits a guest may set on our functions (no I/O BARs yet, so I/O space stays off).</summary>
    public const ushort CommandWritableBits =
        CommandMemorySpace | CommandBusMaster | CommandParityErrorResponse | CommandSerr | CommandInterruptDisable;

    public const ushort StatusInterrupt = 1 << 3;
    public const ushort StatusCapabilityList = 1 << 4;

    /// <summary>Error bits (parity, target/master abort, SERR): write 1 to clear.</summary>
    public const ushort StatusErrorBits = 0xF900;

    public const byte HeaderTypeNormal = 0x00;
    /// <summary>Header type bit 7: the device has functions besides 0, which firmware and OSes probe only then.</summary>
    public const byte HeaderTypeMultiFunction = 0x80;
    public const byte InterruptPinA = 1;

    public const byte CapabilityIdMsi = 0x05;
    public const byte CapabilityIdMsix = 0x11;
    public const byte CapabilityIdVendor = 0x09;

    public const uint BarMemory64Bit = 0b100;
    public const uint BarMemoryPrefetchable = 0b1000;
}
