using Platform.Devices.Abstractions;

namespace Platform.Devices.Legacy;

/// <summary>
/// QEMU's <c>isa-debugcon</c>: one port (0x402 for SeaBIOS, 0xE9 for Bochs-style guests) whose written bytes are the
/// firmware's log. SeaBIOS reads the port first and logs to it only when it reads back 0xE9, as QEMU's does.
/// </summary>
/// <remarks>
/// Register it for one port. Bytes go to <paramref name="output"/> (a log file, or a test's capture) as they come;
/// wider accesses, and an output that fails, are counted and otherwise ignored: the guest never waits for the log.
/// vCPUs may write at once, so one lock keeps the bytes in order.
/// </remarks>
public sealed class DebugConsolePort(Stream? output) : IBusDevice
{
    /// <summary>Where SeaBIOS writes its log (CONFIG_DEBUG_IO's default port).</summary>
    public const ushort SeaBiosPort = 0x402;

    /// <summary>What a read returns, so the guest knows the port is there (QEMU's readback value).</summary>
    public const byte Readback = 0xE9;

    private static readonly KeyValuePair<string, object?> DeviceTag = new("device", "debugcon");

    private readonly Lock _lock = new();
    private long _bytesWritten;
    private long _badAccesses;
    private long _outputFailures;

    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    public long BadAccesses => Interlocked.Read(ref _badAccesses);

    /// <summary>Bytes the output refused (a full disk, a closed stream); the guest did not notice.</summary>
    public long OutputFailures => Interlocked.Read(ref _outputFailures);

    public void Read(ulong offset, Span<byte> data)
    {
        data.Clear();
        if (offset != 0 || data.Length != 1)
        {
            CountBadAccess();
            return;
        }

        data[0] = Readback;
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset != 0 || data.Length != 1)
        {
            CountBadAccess();
            return;
        }

        Interlocked.Increment(ref _bytesWritten);
        if (output is null)
        {
            return;
        }

        lock (_lock)
        {
            try
            {
                output.Write(data);
                if (data[0] == (byte)'\n')
                {
                    output.Flush(); // a whole line reaches the file, so a VMM that dies leaves its log readable
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException)
            {
                Interlocked.Increment(ref _outputFailures);
            }
        }
    }

    private void CountBadAccess()
    {
        Interlocked.Increment(ref _badAccesses);
        DeviceCounters.BadAccesses.Add(1, DeviceTag);
    }
}
