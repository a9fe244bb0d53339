using Platform.Devices.Abstractions;

namespace Platform.Engine.Machine;

/// <summary>
/// Port 0x80, where firmware and Linux write POST codes and "I/O delay" bytes. Swallowed and counted; the last
/// code is kept because it tells where a guest got stuck.
/// </summary>
public sealed class PostCodePort : IBusDevice
{
    private long _writes;

    public long Writes => Interlocked.Read(ref _writes);

    public byte LastCode { get; private set; }

    public void Read(ulong offset, Span<byte> data) => data.Clear();

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        Interlocked.Increment(ref _writes);
        if (!data.IsEmpty)
        {
            LastCode = data[0];
        }
    }
}
