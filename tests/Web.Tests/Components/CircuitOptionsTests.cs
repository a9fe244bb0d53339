using Microsoft.AspNetCore.Components.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Components;

/// <summary>
/// A dead circuit keeps its whole page (about 2 MB with 200 VMs): the dashboard keeps fewer of them, for less time, than
/// Blazor's defaults (100 for 3 minutes), which held half its heap under ordinary use (bench/dashboard-memory.sh).
/// </summary>
public sealed class CircuitOptionsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    [Fact]
    public void Disconnected_circuits_are_kept_at_most_a_minute_and_twenty_at_a_time()
    {
        var options = factory.Services.GetRequiredService<IOptions<CircuitOptions>>().Value;

        options.DisconnectedCircuitRetentionPeriod.Should().Be(TimeSpan.FromMinutes(1));
        options.DisconnectedCircuitMaxRetained.Should().Be(20);
    }
}
