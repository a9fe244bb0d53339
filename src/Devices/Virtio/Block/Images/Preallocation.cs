namespace Platform.Devices.Virtio.Block.Images;

/// <summary>How much of a new image is written up front, as <c>qemu-img create -o preallocation=…</c> names it.</summary>
public enum Preallocation
{
    /// <summary>Nothing: a raw image is a sparse file, a qcow2 image has only its header and empty tables.</summary>
    Off,

    /// <summary>qcow2 only: every L2 table and data cluster is mapped, the data left sparse (reads as zeros); later writes allocate nothing.</summary>
    Metadata,

    /// <summary>Every byte is written (zeros), so the host's space is taken now and a write can never fail for lack of it.</summary>
    Full,
}
