namespace Platform.Engine.Host;

/// <summary>Where serial.sock's clients type: the running machine's COM1, a byte at a time, with back-pressure.</summary>
public interface ISerialInput
{
    /// <summary>
    /// Offers one byte; false when the guest has enough waiting already (or no machine runs, between reboots), with
    /// nothing changed: <see cref="RoomAvailable"/> is called when it may be offered again.
    /// </summary>
    bool TryWrite(byte value);

    /// <summary>Called on any thread, outside device locks, when input refused before may be offered again; must only schedule work.</summary>
    Action? RoomAvailable { get; set; }
}
