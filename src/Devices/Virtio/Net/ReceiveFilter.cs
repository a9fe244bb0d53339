namespace Platform.Devices.Virtio.Net;

/// <summary>
/// Which received frames a virtio-net guest wants, as its driver sets it through the control queue (virtio 1.2
/// 5.1.6.5.1 and 5.1.6.5.2): the receive modes and a table of unicast and multicast addresses, decided on the
/// destination MAC as QEMU's <c>receive_filter</c> does.
/// </summary>
/// <remarks>
/// <para>It starts promiscuous, as QEMU's does after a reset: a driver without VIRTIO_NET_F_CTRL_RX cannot ask for
/// anything else, and one with it turns promiscuous mode off when it brings the interface up.</para>
/// <para>The table holds <see cref="TableEntries"/> addresses in all; a list longer than that (or than what is left
/// after the unicast list) is not kept, and instead every address of its kind passes (QEMU's overflow flags).</para>
/// <para>Used by the device's worker thread only; the counters and setters are not synchronized.</para>
/// </remarks>
public sealed class ReceiveFilter
{
    public const int TableEntries = 64;
    public const int MacLength = 6;

    private readonly byte[] _table = new byte[TableEntries * MacLength];
    private int _unicastCount;
    private int _multicastCount;

    public ReceiveFilter() => Reset();

    public bool Promiscuous { get; set; }

    public bool AllMulticast { get; set; }

    /// <summary>VIRTIO_NET_CTRL_RX_ALLUNI (CTRL_RX_EXTRA): every unicast frame.</summary>
    public bool AllUnicast { get; set; }

    public bool NoMulticast { get; set; }

    public bool NoUnicast { get; set; }

    public bool NoBroadcast { get; set; }

    /// <summary>The guest's unicast list did not fit the table: every unicast frame passes.</summary>
    public bool UnicastOverflow { get; private set; }

    /// <summary>The guest's multicast list did not fit the table: every multicast frame passes.</summary>
    public bool MulticastOverflow { get; private set; }

    public int UnicastCount => _unicastCount;

    public int MulticastCount => _multicastCount;

    /// <summary>Promiscuous, no other mode, an empty table: the state after a reset.</summary>
    public void Reset()
    {
        Promiscuous = true;
        AllMulticast = AllUnicast = NoMulticast = NoUnicast = NoBroadcast = false;
        UnicastOverflow = MulticastOverflow = false;
        _unicastCount = _multicastCount = 0;
    }

    /// <summary>
    /// Replaces the table: <paramref name="unicast"/> and <paramref name="multicast"/> hold whole addresses; a list that
    /// was too long to keep comes empty with its overflow flag set.
    /// </summary>
    public void SetTable(ReadOnlySpan<byte> unicast, bool unicastOverflow, ReadOnlySpan<byte> multicast, bool multicastOverflow)
    {
        if (unicast.Length % MacLength != 0 || multicast.Length % MacLength != 0 || unicast.Length + multicast.Length > _table.Length)
        {
            throw new ArgumentException("The table holds whole addresses, at most 64 of them.");
        }

        unicast.CopyTo(_table);
        multicast.CopyTo(_table.AsSpan(unicast.Length));
        _unicastCount = unicast.Length / MacLength;
        _multicastCount = multicast.Length / MacLength;
        UnicastOverflow = unicastOverflow;
        MulticastOverflow = multicastOverflow;
    }

    /// <summary>
    /// Whether the guest wants <paramref name="frame"/> (an Ethernet frame of at least 6 bytes), given its own
    /// address <paramref name="ownMac"/>.
    /// </summary>
    public bool Accepts(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> ownMac)
    {
        if (Promiscuous)
        {
            return true;
        }

        var destination = frame[..MacLength];
        if ((destination[0] & 1) != 0)
        {
            if (destination.IndexOfAnyExcept((byte)0xFF) < 0)
            {
                return !NoBroadcast;
            }

            if (NoMulticast)
            {
                return false;
            }

            return AllMulticast || MulticastOverflow || InTable(destination, _unicastCount, _multicastCount);
        }

        if (NoUnicast)
        {
            return false;
        }

        return AllUnicast || UnicastOverflow || destination.SequenceEqual(ownMac) || InTable(destination, 0, _unicastCount);
    }

    private bool InTable(ReadOnlySpan<byte> address, int first, int count)
    {
        for (int i = first; i < first + count; i++)
        {
            if (address.SequenceEqual(_table.AsSpan(i * MacLength, MacLength)))
            {
                return true;
            }
        }

        return false;
    }
}
