using System.Buffers.Binary;
using System.Text;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

// One client's life: the handshake in each protocol version and security type, its messages, its input, and what
// ends it. Every test talks to the server over an in-memory pipe with the test's own RFB client.
public sealed class VncConnectionTests
{
    private readonly TestFramebuffer _framebuffer = new(64, 48);
    private readonly RecordingInput _input = new();

    public VncConnectionTests() => _framebuffer.Fill((x, y) => (uint)((x * 4) << 16 | (y * 5) << 8 | 0x40));

    private VncServer Server(VncServerOptions? options = null) => new(_framebuffer, options, _input, _input);

    [Theory]
    [InlineData("RFB 003.008\n")]
    [InlineData("RFB 003.007\n")]
    [InlineData("RFB 003.003\n")]
    [InlineData("RFB 003.005\n")]  // reported by some old clients; RFC 6143 says to treat it as 3.3
    [InlineData("RFB 003.889\n")]  // Apple's Screen Sharing: anything past 3.8 speaks 3.8
    public async Task Handshake_works_in_every_protocol_version(string version)
    {
        using VncServer server = Server(new VncServerOptions { DesktopName = "test vm ✓" });
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync(version);
            client.Width.Should().Be(64);
            client.Height.Should().Be(48);
            client.DesktopName.Should().Be("test vm ✓");
            client.ServerFormat.Should().Be(new PixelFormat(32, 24, false, true, 255, 255, 255, 16, 8, 0));
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            VncAssert.ScreenMatches(client, _framebuffer.Expected());
            server.ClientCount.Should().Be(1);
        }

        await served;
        server.ClientCount.Should().Be(0);
        server.ProtocolErrors.Should().Be(0);
    }

    [Theory]
    [InlineData("HELLO WORLD\n")]
    [InlineData("RFB 002.000\n")]
    [InlineData("RFB 003.00x\n")]
    public async Task A_client_that_is_not_RFB_is_closed(string version)
    {
        using VncServer server = Server();
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.ReadAsync(12);
            await client.WriteAsync(Encoding.ASCII.GetBytes(version));
            await served;
        }

        server.ProtocolErrors.Should().Be(1);
        server.ClientCount.Should().Be(0);
    }

    [Theory]
    [InlineData("RFB 003.008\n")]
    [InlineData("RFB 003.003\n")]
    public async Task Vnc_authentication_lets_the_right_password_in(string version)
    {
        using VncServer server = Server(new VncServerOptions { Password = "s3cret!!extra" });
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync(version, password: "s3cret!!");   // only 8 characters count
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            VncAssert.ScreenMatches(client, _framebuffer.Expected());
        }

        await served;
        server.AuthenticationFailures.Should().Be(0);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_a_reason_in_3_8()
    {
        using VncServer server = Server(new VncServerOptions { Password = "right" });
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            Func<Task> handshake = () => client.HandshakeAsync(password: "wrong");
            await handshake.Should().ThrowAsync<UnauthorizedAccessException>();
            client.FailureReason.Should().Be("Authentication failed.");
        }

        await served;
        server.AuthenticationFailures.Should().Be(1);
        server.ClientCount.Should().Be(0);
    }

    [Fact]
    public async Task A_wrong_password_closes_a_3_3_client_after_the_result()
    {
        using VncServer server = Server(new VncServerOptions { Password = "right" });
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            Func<Task> handshake = () => client.HandshakeAsync("RFB 003.003\n", password: "wrong");
            await handshake.Should().ThrowAsync<UnauthorizedAccessException>();
            await served;
        }

        server.AuthenticationFailures.Should().Be(1);
    }

    [Fact]
    public void The_vnc_authentication_key_is_the_password_with_each_byte_bit_reversed()
    {
        VncAuthentication.KeyFromPassword("\u0001\u0080abc").Should().Equal(0x80, 0x01, 0x86, 0x46, 0xC6, 0, 0, 0);
        VncAuthentication.KeyFromPassword("123456789").Should().HaveCount(8).And.Equal(0x8C, 0x4C, 0xCC, 0x2C, 0xAC, 0x6C, 0xEC, 0x1C);
        using var authentication = new VncAuthentication("pass");
        byte[] challenge = Enumerable.Range(0, 16).Select(i => (byte)(i * 17)).ToArray();
        authentication.Verify(challenge, RfbTestClient.EncryptChallenge(challenge, "pass")).Should().BeTrue();
        authentication.Verify(challenge, RfbTestClient.EncryptChallenge(challenge, "pasS")).Should().BeFalse();
        authentication.Verify(challenge, new byte[15]).Should().BeFalse();
    }

    [Fact]
    public async Task Choosing_a_security_type_that_was_not_offered_closes_the_client()
    {
        using VncServer server = Server();
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.ReadAsync(12);
            await client.WriteAsync(Encoding.ASCII.GetBytes("RFB 003.008\n"));
            (await client.ReadAsync(2)).Should().Equal(1, 1);   // one type: None
            await client.WriteAsync([2]);
            BinaryPrimitives.ReadUInt32BigEndian(await client.ReadAsync(4)).Should().Be(1u);
            await served;
        }

        server.ProtocolErrors.Should().Be(1);
    }

    [Fact]
    public async Task A_client_that_breaks_right_after_joining_is_removed()
    {
        using VncServer server = Server(new VncServerOptions { MaxClients = 1 });
        (DuplexStream clientSide, DuplexStream serverSide) = DuplexStream.CreatePair();
        Task served = server.ServeAsync(serverSide, TestContext.Current.CancellationToken);
        var client = new RfbTestClient(clientSide);
        await using (client)
        {
            await client.ReadAsync(12);
            await client.WriteAsync(Encoding.ASCII.GetBytes("RFB 003.008\n"));
            await client.ReadAsync(2);
            await client.WriteAsync([1]);
            await client.ReadAsync(4);
            clientSide.Input.Close();        // the server's ServerInit will find the connection gone
            await client.WriteAsync([1]);    // ClientInit: the server adds the client, then fails to greet it
            await served;
        }

        server.ClientCount.Should().Be(0, "a client that joined must leave even when its ServerInit failed");
        (RfbTestClient next, Task nextServed, _) = RfbTestClient.Connect(server);
        await using (next)
        {
            await next.HandshakeAsync();   // the one place under MaxClients = 1 is free again
        }

        await nextServed;
    }

    [Fact]
    public async Task Clients_past_the_limit_are_refused_with_a_reason()
    {
        using VncServer server = Server(new VncServerOptions { MaxClients = 1 });
        (RfbTestClient first, Task firstServed, _) = RfbTestClient.Connect(server);
        (RfbTestClient second, Task secondServed, _) = RfbTestClient.Connect(server);
        await using (first)
        await using (second)
        {
            await first.HandshakeAsync();
            Func<Task> refused = () => second.HandshakeAsync();
            await refused.Should().ThrowAsync<InvalidOperationException>();
            second.FailureReason.Should().Contain("Too many clients");
            await secondServed;
            server.RefusedClients.Should().Be(0, "the refusal came before the client was added");
            server.ClientCount.Should().Be(1);
        }

        await firstServed;
    }

    [Fact]
    public async Task Several_clients_each_get_the_screen_in_their_own_format_and_encoding()
    {
        using VncServer server = Server();
        var formats = new[]
        {
            (Format: PixelFormat.Native, Encoding: 16),
            (Format: new PixelFormat(16, 16, true, true, 31, 63, 31, 11, 5, 0), Encoding: 7),
            (Format: new PixelFormat(8, 8, false, true, 7, 7, 3, 0, 3, 6), Encoding: 0),
        };
        var clients = new List<(RfbTestClient Client, Task Served)>();
        foreach ((PixelFormat format, int encoding) in formats)
        {
            (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
            await client.HandshakeAsync();
            await client.SetPixelFormatAsync(format);
            await client.SetEncodingsAsync(encoding);
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            clients.Add((client, served));
        }

        server.ClientCount.Should().Be(3);
        _framebuffer.SetPixel(10, 10, 0xFFFFFF);
        _framebuffer.SetPixel(63, 47, 0x00FF00);
        server.Refresh();
        foreach ((RfbTestClient client, _) in clients)
        {
            await client.RequestUpdateAsync(incremental: true);
            await client.ReadUpdateAsync();
            VncAssert.ScreenMatches(client, _framebuffer.Expected());
        }

        // One client leaving does not disturb the others.
        await clients[0].Client.DisposeAsync();
        await clients[0].Served;
        _framebuffer.SetPixel(0, 0, 0xFF0000);
        server.Refresh();
        for (int i = 1; i < clients.Count; i++)
        {
            await clients[i].Client.RequestUpdateAsync(incremental: true);
            await clients[i].Client.ReadUpdateAsync();
            VncAssert.ScreenMatches(clients[i].Client, _framebuffer.Expected());
            await clients[i].Client.DisposeAsync();
            await clients[i].Served;
        }

        server.ClientCount.Should().Be(0);
    }

    [Fact]
    public async Task Key_events_become_scancodes_with_a_us_layout()
    {
        using VncServer server = Server();
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SendKeyAsync('a', true);
            await client.SendKeyAsync('a', false);
            await client.SendKeyAsync('A', true);
            await client.SendKeyAsync('A', false);
            await client.SendKeyAsync('!', true);
            await client.SendKeyAsync('!', false);
            await client.SendKeyAsync(0xFFE4, true);   // Control_R
            await client.SendKeyAsync(0xFFE4, false);
            await client.SendKeyAsync(0xFF0D, true);   // Return
            await client.SendKeyAsync(0xFF0D, false);
            await client.SendKeyAsync(0x20AC, true);   // EuroSign: no key on a US keyboard
            await client.SendKeyAsync(0xFFBE, true);   // F1
            await client.SendKeyAsync(0xFFBE, false);
        }

        await served;
        _input.Keys.Should().Equal(
            (0x1E, true), (0x1E, false), (0x1E, true), (0x1E, false), (0x02, true), (0x02, false),
            (0xE01D, true), (0xE01D, false), (0x1C, true), (0x1C, false), (0x3B, true), (0x3B, false));
    }

    [Fact]
    public async Task Qemu_extended_key_events_pass_scancodes_straight_through()
    {
        using VncServer server = Server();
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetEncodingsAsync(0, -258);
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            client.ExtendedKeyEventAcknowledged.Should().BeTrue("the server confirms the extension with its pseudo-rectangle");
            await client.SendQemuKeyAsync('q', 0x10, true);
            await client.SendQemuKeyAsync(0xFFE4, 0x9D, true);   // right Ctrl: E0 1D, sent as 0x80 | 0x1D
            await client.SendQemuKeyAsync(0xFFE4, 0x9D, false);
            await client.SendQemuKeyAsync('b', 0, true);         // no keycode: fall back to the keysym
            await client.SendQemuKeyAsync('q', 0x10, false);
        }

        await served;
        _input.Keys.Should().Equal((0x10, true), (0xE01D, true), (0xE01D, false), (0x30, true), (0x10, false), (0x30, false));
    }

    [Fact]
    public async Task Keys_a_client_leaves_held_are_released_when_it_goes()
    {
        using VncServer server = Server();
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SendKeyAsync(0xFFE3, true);   // Control_L
            await client.SendKeyAsync(0xFFE9, true);   // Alt_L
            await client.SendKeyAsync(0xFFE9, false);
        }

        await served;
        _input.Keys.Should().Equal((0x1D, true), (0x38, true), (0x38, false), (0x1D, false));
    }

    [Fact]
    public async Task Pointer_events_are_absolute_and_kept_on_screen()
    {
        using VncServer server = Server();
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SendPointerAsync(10, 20, 0);
            await client.SendPointerAsync(500, 600, 0b101);
        }

        await served;
        _input.Pointer.Should().Equal((10, 20, 0, 64, 48), (63, 47, 5, 64, 48),
            (63, 47, 0, 64, 48)); // the buttons it left held are let go where it left the pointer
    }

    [Fact]
    public async Task A_client_that_goes_with_no_button_held_sends_nothing_more()
    {
        using VncServer server = Server();
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SendPointerAsync(1, 2, 0b001);
            await client.SendPointerAsync(3, 4, 0b01000);   // the wheel is not a held button
        }

        await served;
        _input.Pointer.Should().Equal((1, 2, 1, 64, 48), (3, 4, 8, 64, 48));
    }

    [Fact]
    public async Task Keyboard_leds_reach_clients_that_asked_for_them()
    {
        _input.Leds = 0b010;
        using VncServer server = Server();
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetEncodingsAsync(0, -261);
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            client.LedStates.Should().Equal(0b010);
            _input.Leds = 0b110;   // the guest turned Caps Lock on
            server.Refresh();
            await client.RequestUpdateAsync(incremental: true);
            await client.ReadUpdateAsync();
            client.LedStates.Should().Equal(0b010, 0b110);
        }

        await served;
    }

    [Fact]
    public async Task Cursor_shape_goes_to_clients_that_draw_it()
    {
        using VncServer server = Server();
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetPixelFormatAsync(new PixelFormat(16, 16, false, true, 31, 63, 31, 11, 5, 0));
            await client.SetEncodingsAsync(0, -239);
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            client.Cursor.Should().NotBeNull();
            client.Cursor!.Value.Width.Should().Be(VncCursor.Arrow.Width);
            client.Cursor.Value.Mask.Should().Equal(VncCursor.Arrow.Mask);
            client.Cursor.Value.Pixels[0].Should().Be(0xFFFFFFu, "the arrow's tip is its white outline");

            server.Cursor = VncCursor.FromPicture(["X#", "#X"], 1, 1);
            server.Refresh();
            await client.RequestUpdateAsync(incremental: true);
            await client.ReadUpdateAsync();
            client.Cursor!.Value.Should().Match<(int HotspotX, int HotspotY, int Width, int Height, uint[] Pixels, byte[] Mask)>(
                c => c.HotspotX == 1 && c.HotspotY == 1 && c.Width == 2 && c.Mask[0] == 0xC0 && c.Mask[1] == 0xC0);
        }

        await served;
    }

    [Fact]
    public async Task Cut_text_within_the_limit_is_accepted_and_past_it_closes_the_client()
    {
        using VncServer server = Server(new VncServerOptions { MaxClientCutText = 100 });
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SendCutTextAsync(new string('x', 100));
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            server.ProtocolErrors.Should().Be(0);
            await client.SendCutTextAsync(new string('x', 101));
            await served;
        }

        server.ProtocolErrors.Should().Be(1);
    }

    [Fact]
    public async Task SetDesktopSize_is_answered_as_prohibited()
    {
        using VncServer server = Server();
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetEncodingsAsync(0, -308);
            await client.SendSetDesktopSizeAsync(1024, 768);
            await client.ReadUpdateAsync();
            client.DesktopSizes.Should().Equal((1, 1, 64, 48));
            client.Width.Should().Be(64, "the guest decides its mode");
        }

        await served;
    }

    [Fact]
    public async Task Unknown_and_unnegotiated_messages_close_only_that_client()
    {
        using VncServer server = Server();
        (RfbTestClient good, Task goodServed, _) = RfbTestClient.Connect(server);
        await good.HandshakeAsync();
        foreach (byte[] message in new[]
        {
            new byte[] { 7 },                                   // no such message
            new byte[] { 255, 1, 0, 0 },                        // QEMU audio: never offered
            new byte[] { 0, 0, 0, 0, 24, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0 }, // 24 bits per pixel
            new byte[] { 2, 0, 0x10, 0x00 },                    // 4096 encodings
            new byte[] { 251, 0, 0, 64, 0, 48, 0, 0 },          // SetDesktopSize with no screens
        })
        {
            (RfbTestClient bad, Task served, _) = RfbTestClient.Connect(server);
            await using (bad)
            {
                await bad.HandshakeAsync();
                await bad.WriteAsync(message);
                await served;
            }
        }

        server.ProtocolErrors.Should().Be(5);
        await good.RequestUpdateAsync(incremental: false);
        await good.ReadUpdateAsync();
        VncAssert.ScreenMatches(good, _framebuffer.Expected());
        await good.DisposeAsync();
        await goodServed;
        server.InternalErrors.Should().Be(0);
    }
}
