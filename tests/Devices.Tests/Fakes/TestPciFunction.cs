using Platform.Devices.Abstractions;
using Platform.Devices.Pci;

namespace Platform.Devices.Tests.Fakes;

/// <summary>
/// A PCI function for exercising the PCI layer: BAR 0 is 32-bit 4 KiB of scratch registers, BAR 2 a 64-bit 16 KiB
/// BAR with the MSI-X table at 0 and the PBA at 0x2000 (4 vectors). <see cref="RaiseInterrupt"/> signals vector 0,
/// or INTx when MSI-X is off.
/// </summary>
public sealed class TestPciFunction : PciFunction
{
    public const int RegistersBar = 0, MsixBar = 2;
    public const ulong RegistersBarSize = 0x1000, MsixBarSize = 0x4000, PbaOffset = 0x2000;

    private readonly byte[] _registers = new byte[RegistersBarSize];

    public TestPciFunction(IMsiTarget msi, IInterruptLine? intx, int vectors = 4)
        : base(new PciConfigSpace(0x1234, 0x5678, 0x0FF000, revision: 2), intx)
    {
        AddMemoryBar(RegistersBar, RegistersBarSize, is64Bit: false);
        AddMemoryBar(MsixBar, MsixBarSize, is64Bit: true, prefetchable: true);
        AddMsixCapability(new MsixController(vectors, msi, new PciBarLocation(MsixBar, 0), new PciBarLocation(MsixBar, PbaOffset)));
        Config.MakeWriteOneToClear(PciRegisters.Status, 2, PciRegisters.StatusErrorBits);
    }

    /// <summary>Sets status error bits as if the device had seen a master abort, to test write-1-to-clear.</summary>
    public void SetStatusBits(ushort bits) => Config.SetWord(PciRegisters.Status, (ushort)(Config.ReadWord(PciRegisters.Status) | bits));

    public void RaiseInterrupt(int vector = 0)
    {
        if (!Msix!.Trigger(vector))
        {
            SetIntxPending(true);
        }
    }

    public void LowerIntx() => SetIntxPending(false);

    protected override void OnBarRead(int barIndex, ulong offset, Span<byte> data)
    {
        if (barIndex == MsixBar)
        {
            if (offset >= PbaOffset)
            {
                Msix!.ReadPba(offset - PbaOffset, data);
            }
            else
            {
                Msix!.ReadTable(offset, data);
            }

            return;
        }

        _registers.AsSpan((int)offset, data.Length).CopyTo(data);
    }

    protected override void OnBarWritten(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
        if (barIndex == MsixBar)
        {
            if (offset >= PbaOffset)
            {
                Msix!.WritePba(offset - PbaOffset, data);
            }
            else
            {
                Msix!.WriteTable(offset, data);
            }

            return;
        }

        data.CopyTo(_registers.AsSpan((int)offset));
    }
}
