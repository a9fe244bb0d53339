using System.Globalization;
using Platform.Devices.Virtio.Input;
using Platform.Engine.Tests.Infrastructure;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Display;

// A paste of 2,000 characters from a VNC viewer, sent as fast as the socket takes it, reaches a real guest whole and in
// order through the PS/2 keyboard (the kbd guest polls the i8042 and prints every byte) and through the virtio
// keyboard (the input guest prints every event): the VMM holds keys while the guest's keyboard is full.
public sealed class PastedTextGuestTests
{
    private const int Characters = 2_000;
    private const uint KeysymShift = 0xFFE1, KeysymEscape = 0xFF1B;
    private const int ScancodeShift = 0x2A;
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(300);

    /// <summary>A password-like paste: letters of both cases, digits, punctuation and spaces.</summary>
    private static string Text()
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-=;,./ ";
        var random = new Random(16);
        return new string([.. Enumerable.Range(0, Characters).Select(_ => Alphabet[random.Next(Alphabet.Length)])]);
    }

    /// <summary>The key events a viewer sends for <paramref name="text"/>, Shift around capitals as noVNC does.</summary>
    private static List<(uint Keysym, bool Down)> KeyEvents(string text)
    {
        var events = new List<(uint, bool)>();
        foreach (char c in text)
        {
            bool shifted = char.IsAsciiLetterUpper(c);
            if (shifted)
            {
                events.Add((KeysymShift, true));
            }

            events.Add((c, true));
            events.Add((c, false));
            if (shifted)
            {
                events.Add((KeysymShift, false));
            }
        }

        return events;
    }

    private static async Task SendAllAsync(RfbTestClient client, IEnumerable<(uint Keysym, bool Down)> events)
    {
        foreach (var (keysym, down) in events)
        {
            await client.SendKeyAsync(keysym, down);
        }
    }

    private static IEnumerable<string> Lines(string output, string prefix) =>
        output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>Waits until the guest has printed <paramref name="count"/> complete lines starting with <paramref name="prefix"/>.</summary>
    private static string CompleteLines(string output) => output[..(output.LastIndexOf('\n') + 1)];

    private static async Task WaitForLinesAsync(ControlledVm vm, string prefix, int count)
    {
        var deadline = DateTime.UtcNow + GuestTimeout;
        // One read of the output per look: it grows while we look, so a second read's length may not fit the first.
        while (CompleteLines(vm.Output) is var output && Lines(output, prefix).Count() < count)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, $"the guest prints {count} \"{prefix}\" lines; it printed:\n{output[^Math.Min(output.Length, 2000)..]}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_paste_reaches_a_guest_that_polls_the_PS2_keyboard_whole_and_in_order()
    {
        var events = KeyEvents(Text());
        // Set 1 through the controller's translation: the make code, or it with bit 7 for the release.
        int[] expected = [.. events.Select(e => KeysymTranslator.ToScancode(e.Keysym) | (e.Down ? 0 : 0x80))];
        expected.Should().NotContain(b => (b & 0x7F) == 0, "every character of the paste has a key");

        // One byte more than the paste: the guest passes on a last key, sent once the paste is checked.
        await using var vm = ControlledVm.Start("kbd", $"keys={expected.Length + 1}");
        await vm.WaitForOutputAsync("READY", TimeSpan.FromSeconds(60));
        await using var client = await FbGuestScreen.ConnectUnixAsync(vm.VncSocket);
        await SendAllAsync(client, events);

        await WaitForLinesAsync(vm, "key ", expected.Length);
        int[] received = [.. Lines(vm.Output, "key ").Select(l => int.Parse(l[4..], NumberStyles.HexNumber, CultureInfo.InvariantCulture))];
        received.Should().Equal(expected);
        var stats = vm.Host.GetStats().Devices;
        stats.Single(d => d.Name == "i8042").Counters["dropped_bytes"].Should().Be(0);
        var vnc = stats.Single(d => d.Name == "vnc").Counters;
        (vnc["keys_to_ps2"], vnc["keys_refused"], vnc["keys_queued"]).Should().Be((events.Count, 0, 0));

        await client.SendKeyAsync(KeysymEscape, down: true);
        await vm.WaitForOutputAsync("PLATFORM-TEST kbd PASS", GuestTimeout);
    }

    [Fact]
    public async Task A_paste_reaches_the_guests_virtio_keyboard_whole_and_in_order()
    {
        var events = KeyEvents(Text().ToLowerInvariant());   // the input guest prints every event: keep it to presses and releases
        const string Syn = "input: keyboard EV_SYN SYN_REPORT 0";
        string[] expected = [.. events.Append((KeysymEscape, true)).Append((KeysymEscape, false)).SelectMany(e => new[]
        {
            $"input: keyboard EV_KEY {XtScancodes.ToLinuxKey(KeysymTranslator.ToScancode(e.Item1))} {(e.Item2 ? 1 : 0)}", Syn,
        })];

        await using var vm = ControlledVm.Start("input", "timeout=600");
        await vm.WaitForOutputAsync("READY", TimeSpan.FromSeconds(90));
        await using var client = await FbGuestScreen.ConnectUnixAsync(vm.VncSocket);
        await SendAllAsync(client, events);

        await WaitForLinesAsync(vm, "input: keyboard EV_", expected.Length - 4);
        var stats = vm.Host.GetStats().Devices;
        stats.Single(d => d.Name == "keyboard0").Counters["dropped_events"].Should().Be(0);
        var vnc = stats.Single(d => d.Name == "vnc").Counters;
        (vnc["keys_to_virtio"], vnc["keys_refused"], vnc["keys_queued"]).Should().Be((events.Count, 0, 0));

        await SendAllAsync(client, [(KeysymEscape, true), (KeysymEscape, false)]);   // the guest passes on Escape
        string output = await vm.WaitForOutputAsync("PLATFORM-TEST input PASS", GuestTimeout);
        Lines(output, "input: keyboard EV_").Should().Equal(expected);
        Lines(output, "ps2:").Should().BeEmpty();
    }
}
