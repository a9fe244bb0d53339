using System.Security.Cryptography;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio.Rng;

/// <summary>
/// virtio-rng (entropy device, virtio 1.2 5.4): one request queue; every device-writable buffer the driver offers is
/// filled with bytes from the host's cryptographic generator (<see cref="RandomNumberGenerator"/>, getrandom(2) on
/// Linux). No features, no configuration space.
/// </summary>
/// <remarks>
/// A request is answered with at most <see cref="MaxBytesPerRequest"/> bytes (the used length says how many), so one
/// huge buffer cannot keep the worker busy; Linux's hw_random asks for at most a page or so at a time anyway.
/// A request without writable buffers is answered with 0 bytes, as QEMU does.
/// </remarks>
public sealed class VirtioRng : VirtioDevice
{
    public const ushort QueueSize = 256;
    public const int MaxBytesPerRequest = 64 * 1024;

    private readonly byte[] _chunk = new byte[4096];
    private long _bytesServed;
    private long _requests;

    public VirtioRng()
        : base(VirtioDeviceType.Entropy, [QueueSize])
    {
    }

    public override ulong DeviceFeatures => 0;

    public override int ConfigSize => 0;

    public long BytesServed => Interlocked.Read(ref _bytesServed);

    public long Requests => Interlocked.Read(ref _requests);

    public override void ReadConfig(int offset, Span<byte> data) => data.Clear();

    protected override void ProcessQueue(int queueIndex, VirtQueue queue)
    {
        bool added = false;
        while (queue.TryPop(out var chain))
        {
            ulong wanted = Math.Min(chain.WritableLength, MaxBytesPerRequest);
            ulong written = 0;
            while (written < wanted)
            {
                var chunk = _chunk.AsSpan(0, (int)Math.Min((ulong)_chunk.Length, wanted - written));
                RandomNumberGenerator.Fill(chunk);
                int copied = chain.Write(written, chunk);
                written += (ulong)copied;
                if (copied < chunk.Length)
                {
                    break; // cannot happen for a validated chain; never spin on it
                }
            }

            queue.AddUsed(chain.Head, (uint)written);
            Interlocked.Add(ref _bytesServed, (long)written);
            Interlocked.Increment(ref _requests);
            added = true;
        }

        if (added)
        {
            SignalUsed(queue);
        }
    }
}
