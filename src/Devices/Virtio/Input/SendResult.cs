namespace Platform.Devices.Virtio.Input;

/// <summary>What became of a report offered to a virtio-input device without dropping (<c>TrySendReport</c>).</summary>
public enum SendResult
{
    /// <summary>Queued for the driver.</summary>
    Sent,

    /// <summary>The buffer has no room now; offer it again after <see cref="VirtioInput.RoomAvailable"/>.</summary>
    Full,

    /// <summary>The driver is not running the device: nobody would read it.</summary>
    NotListening,

    /// <summary>The device has no such key: it can never be sent.</summary>
    Unmapped,
}
