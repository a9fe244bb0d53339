using System.Buffers.Binary;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio.Net;

// The control queue (virtio 1.2 5.1.6.5): receive modes, the MAC table, the MAC address and announcement acks.
public sealed partial class VirtioNet
{
    public const byte ControlOk = 0, ControlError = 1;

    public const byte ClassRx = 0, ClassMac = 1, ClassAnnounce = 3;
    public const byte RxPromisc = 0, RxAllMulti = 1, RxAllUni = 2, RxNoMulti = 3, RxNoUni = 4, RxNoBcast = 5;
    public const byte MacTableSet = 0, MacAddrSet = 1;
    public const byte AnnounceAck = 0;

    /// <summary>class and command, the readable bytes every command starts with.</summary>
    private const int CommandHeaderSize = 2;

    /// <summary>
    /// Answers every command in the queue: the ack byte is the first writable byte of its chain, as Linux and QEMU lay it
    /// out. Anything wrong with a command (unknown, not negotiated, too short or too long) is VIRTIO_NET_ERR; a chain with
    /// no writable byte cannot be answered and is returned as it came, counted.
    /// </summary>
    private void ProcessControl(VirtQueue queue)
    {
        bool added = false;
        Span<byte> ack = stackalloc byte[1];
        while (queue.TryPop(out var chain))
        {
            added = true;
            if (chain.WritableLength == 0)
            {
                Interlocked.Increment(ref _counters.BadCtrlChains);
                queue.AddUsed(chain.Head, 0);
                continue;
            }

            ack[0] = Execute(chain);
            Interlocked.Increment(ref _counters.CtrlCommands);
            if (ack[0] != ControlOk)
            {
                Interlocked.Increment(ref _counters.CtrlErrors);
            }

            queue.AddUsed(chain.Head, (uint)chain.Write(0, ack));
        }

        if (added)
        {
            SignalUsed(queue);
        }
    }

    private byte Execute(DescriptorChain chain)
    {
        Span<byte> command = stackalloc byte[CommandHeaderSize];
        if (chain.ReadableLength < CommandHeaderSize || chain.Read(0, command) != CommandHeaderSize)
        {
            return ControlError;
        }

        ulong dataLength = chain.ReadableLength - CommandHeaderSize;
        bool ok = command[0] switch
        {
            ClassRx => SetRxMode(chain, command[1], dataLength),
            ClassMac when command[1] == MacTableSet => Has(FeatureCtrlRx) && SetMacTable(chain, dataLength),
            ClassMac when command[1] == MacAddrSet => Has(FeatureCtrlMacAddr) && SetMacAddress(chain, dataLength),
            ClassAnnounce when command[1] == AnnounceAck => Has(FeatureGuestAnnounce) && dataLength == 0 && AcknowledgeAnnounce(),
            _ => false,
        };
        return ok ? ControlOk : ControlError;
    }

    /// <summary>VIRTIO_NET_CTRL_RX_*: one byte, on or off; the last four need CTRL_RX_EXTRA.</summary>
    private bool SetRxMode(DescriptorChain chain, byte command, ulong dataLength)
    {
        bool allowed = command switch
        {
            RxPromisc or RxAllMulti => Has(FeatureCtrlRx),
            RxAllUni or RxNoMulti or RxNoUni or RxNoBcast => Has(FeatureCtrlRxExtra),
            _ => false,
        };
        Span<byte> value = stackalloc byte[1];
        if (!allowed || dataLength != 1 || chain.Read(CommandHeaderSize, value) != 1)
        {
            return false;
        }

        bool on = value[0] != 0;
        switch (command)
        {
            case RxPromisc: _filter.Promiscuous = on; break;
            case RxAllMulti: _filter.AllMulticast = on; break;
            case RxAllUni: _filter.AllUnicast = on; break;
            case RxNoMulti: _filter.NoMulticast = on; break;
            case RxNoUni: _filter.NoUnicast = on; break;
            default: _filter.NoBroadcast = on; break;
        }

        return true;
    }

    /// <summary>
    /// VIRTIO_NET_CTRL_MAC_TABLE_SET: two <c>virtio_net_ctrl_mac</c> lists (le32 entries, then the addresses), unicast
    /// then multicast, filling the data exactly. A count that runs past the data, or data left over, is refused and the
    /// table stays as it was; a list too long for the table is not kept and lets its kind through (QEMU's rule).
    /// </summary>
    private bool SetMacTable(DescriptorChain chain, ulong dataLength)
    {
        Span<byte> table = stackalloc byte[ReceiveFilter.TableEntries * ReceiveFilter.MacLength];
        ulong offset = 0;
        if (!TryReadMacList(chain, dataLength, ref offset, table, out int unicastBytes, out bool unicastOverflow) ||
            !TryReadMacList(chain, dataLength, ref offset, table[unicastBytes..], out int multicastBytes, out bool multicastOverflow) ||
            offset != dataLength)
        {
            return false;
        }

        _filter.SetTable(table[..unicastBytes], unicastOverflow, table.Slice(unicastBytes, multicastBytes), multicastOverflow);
        return true;
    }

    /// <summary>Reads one list at data <paramref name="offset"/> into <paramref name="room"/> (or notes that it overflows it).</summary>
    private static bool TryReadMacList(DescriptorChain chain, ulong dataLength, ref ulong offset, Span<byte> room,
        out int bytes, out bool overflow)
    {
        bytes = 0;
        overflow = false;
        Span<byte> count = stackalloc byte[4];
        if (dataLength - offset < 4 || chain.Read(CommandHeaderSize + offset, count) != 4)
        {
            return false;
        }

        offset += 4;
        ulong listBytes = BinaryPrimitives.ReadUInt32LittleEndian(count) * (ulong)ReceiveFilter.MacLength;
        if (listBytes > dataLength - offset)
        {
            return false; // the count claims more addresses than the buffer holds
        }

        if (listBytes > (ulong)room.Length)
        {
            overflow = true;
        }
        else if (chain.Read(CommandHeaderSize + offset, room[..(int)listBytes]) == (int)listBytes)
        {
            bytes = (int)listBytes;
        }
        else
        {
            return false;
        }

        offset += listBytes;
        return true;
    }

    /// <summary>VIRTIO_NET_CTRL_MAC_ADDR_SET: exactly six bytes, a unicast address, which configuration space then shows.</summary>
    private bool SetMacAddress(DescriptorChain chain, ulong dataLength)
    {
        Span<byte> mac = stackalloc byte[ReceiveFilter.MacLength];
        if (dataLength != (ulong)mac.Length || chain.Read(CommandHeaderSize, mac) != mac.Length || (mac[0] & 1) != 0)
        {
            return false;
        }

        mac.CopyTo(_mac);
        PublishMac();
        return true;
    }

    /// <summary>VIRTIO_NET_CTRL_ANNOUNCE_ACK: the guest has announced itself; an ack nobody asked for is an error (as QEMU).</summary>
    private bool AcknowledgeAnnounce()
    {
        if (!_announcePending)
        {
            return false;
        }

        _announcePending = false;
        return true;
    }
}
