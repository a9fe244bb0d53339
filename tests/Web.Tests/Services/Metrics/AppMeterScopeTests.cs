using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Platform.Web.Services.Metrics;

namespace Platform.Web.Tests.Services.Metrics;

/// <summary>The OpenTelemetry view: another app's instruments dropped, the framework's kept small, ours as they are.</summary>
public sealed class AppMeterScopeTests
{
    [Fact]
    public void A_framework_instrument_keeps_a_small_cardinality_limit_ours_the_default_and_another_app_s_is_dropped()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var otherServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var ours = services.GetRequiredService<IMeterFactory>();
        var scope = new AppMeterScope { Factory = ours };

        using var kestrel = ours.Create("Microsoft.AspNetCore.Server.Kestrel");
        var framework = scope.Filter(kestrel.CreateCounter<long>("kestrel.connections"));
        framework.Should().NotBeNull();
        framework!.CardinalityLimit.Should().Be(AppMeterScope.FrameworkCardinalityLimit);

        using var platform = new Meter(PlatformMeter.Name);
        scope.Filter(platform.CreateCounter<long>("platform.vm.disk.read.bytes")).Should().BeNull("one series per VM and device needs the default room");

        using var theirs = otherServices.GetRequiredService<IMeterFactory>().Create("Microsoft.AspNetCore.Server.Kestrel");
        scope.Filter(theirs.CreateCounter<long>("kestrel.connections")).Should().BeSameAs(MetricStreamConfiguration.Drop);
    }
}
