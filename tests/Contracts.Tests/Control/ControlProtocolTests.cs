using System.Text.Json;

namespace Platform.Contracts.Tests.Control;

/// <summary>The typed names of the control protocol against what goes over the wire (docs/control-protocol.md).</summary>
public sealed class ControlProtocolTests
{
    [Theory]
    [InlineData(VmmEventKind.Stop, "STOP")]
    [InlineData(VmmEventKind.Resume, "RESUME")]
    [InlineData(VmmEventKind.Reset, "RESET")]
    [InlineData(VmmEventKind.Shutdown, "SHUTDOWN")]
    [InlineData(VmmEventKind.GuestPanicked, "GUEST_PANICKED")]
    [InlineData(VmmEventKind.Powerdown, "POWERDOWN")]
    public void Each_event_has_its_QMP_name_both_ways(VmmEventKind kind, string wire)
    {
        ControlProtocol.Events.NameOf(kind).Should().Be(wire);
        ControlProtocol.Events.KindOf(wire).Should().Be(kind);
        new VmmControlEvent(wire, null, DateTimeOffset.UnixEpoch).Kind.Should().Be(kind);
    }

    [Fact]
    public void Every_event_kind_has_a_name_and_an_unknown_name_has_no_kind()
    {
        Enum.GetValues<VmmEventKind>().Select(ControlProtocol.Events.NameOf).Should().OnlyHaveUniqueItems();
        ControlProtocol.Events.KindOf("BLOCK_IO_ERROR").Should().BeNull("a newer VMM's event is skipped, not misread");
        new VmmControlEvent("BLOCK_IO_ERROR", null, DateTimeOffset.UnixEpoch).Kind.Should().BeNull();
    }

    [Theory]
    [InlineData(VmRunState.Starting, "starting")]
    [InlineData(VmRunState.Running, "running")]
    [InlineData(VmRunState.Paused, "paused")]
    [InlineData(VmRunState.ShuttingDown, "shutting-down")]
    [InlineData(VmRunState.Stopped, "stopped")]
    public void Query_status_carries_the_run_state_by_its_documented_name(VmRunState state, string wire)
    {
        string json = JsonSerializer.Serialize(new VmmStatus(state, state == VmRunState.Running, 1, 42), ControlJson.Default.VmmStatus);

        json.Should().Contain($"\"status\":\"{wire}\"").And.Contain("\"uptime_ms\":42");
        JsonSerializer.Deserialize(json, ControlJson.Default.VmmStatus)!.Status.Should().Be(state);
    }

    [Fact]
    public void Shutdown_reasons_are_the_documented_strings()
    {
        string[] reasons =
        [
            ControlProtocol.ShutdownReasons.GuestShutdown, ControlProtocol.ShutdownReasons.GuestReset,
            ControlProtocol.ShutdownReasons.HostQuit, ControlProtocol.ShutdownReasons.BootFailed,
        ];
        reasons.Should().Equal("guest-shutdown", "guest-reset", "host-qmp-quit", "boot-failed");
    }

    [Fact]
    public void Exit_codes_are_the_documented_numbers()
    {
        ((int)VmmExitCode.PowerOff, (int)VmmExitCode.StartFailure, (int)VmmExitCode.GuestReset, (int)VmmExitCode.GuestFatal, (int)VmmExitCode.Usage)
            .Should().Be((0, 1, 2, 3, 64));
    }
}
