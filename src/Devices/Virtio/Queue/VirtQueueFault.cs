namespace Platform.Devices.Virtio.Queue;

/// <summary>
/// Why a virtqueue stopped: each is a driver bug or a hostile guest. The queue stays stopped until reset and the
/// transport puts the device into DEVICE_NEEDS_RESET (virtio 1.2, 2.1.2), as QEMU's <c>virtio_error</c> does.
/// </summary>
public enum VirtQueueFault
{
    None,

    /// <summary>Size not a power of two or above the maximum, rings misaligned or outside guest RAM.</summary>
    BadLayout,

    /// <summary>The available index moved more than the queue size past what the device consumed.</summary>
    ImpossibleAvailIndex,

    /// <summary>A chain head in the available ring is not a descriptor index.</summary>
    HeadIndexOutOfRange,

    /// <summary>A descriptor's <c>next</c> points outside its table.</summary>
    NextIndexOutOfRange,

    /// <summary>A chain has more descriptors than the queue size — a loop, or a driver ignoring the bound.</summary>
    ChainTooLong,

    /// <summary>A buffer's address + length wraps, or leaves guest RAM.</summary>
    BufferOutsideMemory,

    /// <summary>A zero-length buffer (refused as QEMU does: no device has a use for one).</summary>
    EmptyBuffer,

    /// <summary>A device-readable buffer after a device-writable one (virtio 1.2, 2.7.4.2).</summary>
    ReadableAfterWritable,

    /// <summary>An indirect descriptor although VIRTIO_F_INDIRECT_DESC was not negotiated.</summary>
    IndirectNotNegotiated,

    /// <summary>An indirect descriptor inside an indirect table, or one with NEXT also set.</summary>
    IndirectMisused,

    /// <summary>An indirect table whose length is zero or not a multiple of the descriptor size.</summary>
    IndirectTableBadLength,

    /// <summary>A ring read or write failed although the layout was checked (memory changed under us).</summary>
    RingInaccessible,
}
