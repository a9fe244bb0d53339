namespace Platform.Engine.Vnc;

/// <summary>Message types of RFB 3.8 (RFC 6143) and the extensions we speak.</summary>
internal static class RfbMessage
{
    // Client to server.
    public const byte SetPixelFormat = 0;
    public const byte SetEncodings = 2;
    public const byte FramebufferUpdateRequest = 3;
    public const byte KeyEvent = 4;
    public const byte PointerEvent = 5;
    public const byte ClientCutText = 6;
    public const byte EnableContinuousUpdates = 150;
    public const byte Fence = 248;   // both directions
    public const byte SetDesktopSize = 251;
    public const byte Qemu = 255;
    public const byte QemuExtendedKeyEvent = 0;   // QEMU client message sub-type

    // Server to client.
    public const byte FramebufferUpdate = 0;
    public const byte SetColourMapEntries = 1;
    public const byte EndOfContinuousUpdates = 150;
}

/// <summary>Fence message flags (rfbproto "Fence"); a fence's payload is at most 64 bytes.</summary>
internal static class RfbFence
{
    public const uint BlockBefore = 1u << 0;
    public const uint BlockAfter = 1u << 1;
    public const uint SyncNext = 1u << 2;
    public const uint Request = 1u << 31;
    public const int MaxPayload = 64;
}

/// <summary>Encoding and pseudo-encoding numbers (RFC 6143 §7.7 and the rfbproto community registry).</summary>
internal static class RfbEncoding
{
    public const int Raw = 0;
    public const int CopyRect = 1;
    public const int Tight = 7;
    public const int Zrle = 16;

    public const int DesktopSize = -223;
    public const int LastRect = -224;
    public const int Cursor = -239;
    public const int ExtendedDesktopSize = -308;
    public const int QemuExtendedKeyEvent = -258;
    public const int QemuLedState = -261;
    public const int Fence = -312;
    public const int ContinuousUpdates = -313;

    /// <summary>-256 is compression level 0, -247 level 9.</summary>
    public const int CompressLevel0 = -256;
    public const int CompressLevel9 = -247;
    /// <summary>-32 is JPEG quality 0, -23 quality 9: Tight sends photo-like areas as JPEG of that quality.</summary>
    public const int QualityLevel0 = -32;
    public const int QualityLevel9 = -23;
}

/// <summary>Security types (RFC 6143 §7.2.1) and SecurityResult values.</summary>
internal static class RfbSecurity
{
    public const byte Invalid = 0;
    public const byte None = 1;
    public const byte VncAuthentication = 2;

    public const uint ResultOk = 0;
    public const uint ResultFailed = 1;
}

/// <summary>ExtendedDesktopSize reasons (x) and status codes (y).</summary>
internal static class RfbDesktopSize
{
    public const int ReasonServer = 0;
    public const int ReasonThisClient = 1;
    public const int StatusOk = 0;
    public const int StatusProhibited = 1;
}
