using Microsoft.Extensions.Time.Testing;
using Platform.Web.Security;

namespace Platform.Web.Tests.Security;

public sealed class ConsoleTicketsTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
    private readonly Guid _vm = Guid.NewGuid();

    private ConsoleTickets Tickets => _tickets ??= new ConsoleTickets(new SecurityOptions(), _clock);

    private ConsoleTickets? _tickets;

    [Fact]
    public void A_ticket_opens_its_own_user_s_console_of_its_own_vm_once()
    {
        string ticket = Tickets.Issue("alice", _vm, ConsoleKind.Vnc);

        Tickets.TryRedeem(ticket, "alice", _vm, ConsoleKind.Vnc).Should().BeTrue();
        Tickets.TryRedeem(ticket, "alice", _vm, ConsoleKind.Vnc).Should().BeFalse("a ticket is single-use");
    }

    [Theory]
    [InlineData("mallory", false, ConsoleKind.Vnc)]
    [InlineData("alice", true, ConsoleKind.Vnc)]
    [InlineData("alice", false, ConsoleKind.Serial)]
    public void A_ticket_is_refused_to_another_user_vm_or_console_and_is_used_up_by_the_try(string user, bool otherVm, ConsoleKind kind)
    {
        string ticket = Tickets.Issue("alice", _vm, ConsoleKind.Vnc);

        Tickets.TryRedeem(ticket, user, otherVm ? Guid.NewGuid() : _vm, kind).Should().BeFalse();
        Tickets.TryRedeem(ticket, "alice", _vm, ConsoleKind.Vnc).Should().BeFalse("a ticket shown to someone else is burnt, not left for them to retry");
    }

    [Fact]
    public void A_ticket_lasts_about_thirty_seconds()
    {
        Tickets.Lifetime.Should().Be(TimeSpan.FromSeconds(30));
        string early = Tickets.Issue("alice", _vm, ConsoleKind.Serial);
        string late = Tickets.Issue("alice", _vm, ConsoleKind.Serial);

        _clock.Advance(TimeSpan.FromSeconds(29));
        Tickets.TryRedeem(early, "alice", _vm, ConsoleKind.Serial).Should().BeTrue();
        _clock.Advance(TimeSpan.FromSeconds(1));
        Tickets.TryRedeem(late, "alice", _vm, ConsoleKind.Serial).Should().BeFalse("it expired");
        Tickets.TryRedeem(null, "alice", _vm, ConsoleKind.Serial).Should().BeFalse();
    }
}
