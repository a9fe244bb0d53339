namespace Platform.Devices.Virtio.Net;

/// <summary>
/// The fields of <c>virtio_net_hdr_v1</c> (virtio 1.2 5.1.6) that decide offloads, and the checks of a header against
/// the negotiated features in each direction.
/// </summary>
/// <remarks>
/// <para>The header passes between guest and backend unchanged except for what these checks remove, so what the host
/// kernel sees is only what both sides agreed to: a guest that sets NEEDS_CSUM without VIRTIO_NET_F_CSUM, or asks for
/// a segmentation it did not negotiate (HOST_TSO4/6, HOST_ECN, HOST_UFO), has that frame dropped and counted rather
/// than handed to the TAP (QEMU passes such headers on as they are). Flag bits the device does not know are cleared,
/// as the spec says they must be ignored.</para>
/// <para>Towards the guest the spec says the device MUST set flags to zero unless VIRTIO_NET_F_GUEST_CSUM was
/// negotiated; a TAP sets DATA_VALID whenever the host already checked a packet, whatever TUNSETOFFLOAD says, so the
/// flags are cleared here. A GSO type the guest did not negotiate cannot come from a TAP whose offloads follow the
/// negotiation, and is dropped if it does.</para>
/// </remarks>
public static class VirtioNetHeader
{
    public const int FlagsOffset = 0, GsoTypeOffset = 1, NumBuffersOffset = 10;

    public const byte FlagNeedsCsum = 1;
    public const byte FlagDataValid = 2;

    public const byte GsoNone = 0;
    public const byte GsoTcpV4 = 1;
    public const byte GsoUdp = 3;
    public const byte GsoTcpV6 = 4;
    public const byte GsoEcn = 0x80;

    /// <summary>
    /// Checks the header of a frame the guest sent against the negotiated <paramref name="features"/> and clears unknown
    /// flags in place; false when the frame asks for an offload that was not negotiated.
    /// </summary>
    public static bool AcceptFromGuest(Span<byte> header, ulong features)
    {
        byte flags = header[FlagsOffset];
        if ((flags & FlagNeedsCsum) != 0 && (features & VirtioNet.FeatureCsum) == 0)
        {
            return false;
        }

        header[FlagsOffset] = (byte)(flags & FlagNeedsCsum);
        return GsoAllowed(header[GsoTypeOffset], features, VirtioNet.FeatureHostTso4, VirtioNet.FeatureHostTso6,
            VirtioNet.FeatureHostUfo, VirtioNet.FeatureHostEcn);
    }

    /// <summary>
    /// Checks the header of a frame from the backend before it goes to the guest and fixes its flags in place; false
    /// when it carries a segmentation the guest did not negotiate (it could not take the frame).
    /// </summary>
    public static bool AcceptForGuest(Span<byte> header, ulong features)
    {
        header[FlagsOffset] = (features & VirtioNet.FeatureGuestCsum) != 0
            ? (byte)(header[FlagsOffset] & (FlagNeedsCsum | FlagDataValid))
            : (byte)0;
        return GsoAllowed(header[GsoTypeOffset], features, VirtioNet.FeatureGuestTso4, VirtioNet.FeatureGuestTso6,
            VirtioNet.FeatureGuestUfo, VirtioNet.FeatureGuestEcn);
    }

    /// <summary>Whether <paramref name="gso"/> is none, or a segmentation whose feature bit (one direction's) is negotiated.</summary>
    private static bool GsoAllowed(byte gso, ulong features, ulong tso4, ulong tso6, ulong ufo, ulong ecn)
    {
        if ((gso & GsoEcn) != 0 && (features & ecn) == 0)
        {
            return false;
        }

        return (gso & ~GsoEcn) switch
        {
            GsoNone => (gso & GsoEcn) == 0, // ECN means nothing without a segmentation
            GsoTcpV4 => (features & tso4) != 0,
            GsoTcpV6 => (features & tso6) != 0,
            GsoUdp => (features & ufo) != 0,
            _ => false,
        };
    }
}
