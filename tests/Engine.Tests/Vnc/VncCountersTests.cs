using System.Diagnostics.Metrics;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

public sealed class VncCountersTests
{
    [Fact]
    public async Task Connections_updates_and_bytes_are_published_as_metrics()
    {
        var totals = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == VncCounters.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (totals)
            {
                totals[instrument.Name] = totals.GetValueOrDefault(instrument.Name) + value;
            }
        });
        listener.Start();

        var framebuffer = new TestFramebuffer(32, 32);
        using var server = new VncServer(framebuffer);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
        }

        await served;
        lock (totals)
        {
            // Other tests run alongside and count too: at least this test's share must be there.
            totals.GetValueOrDefault("platform.vnc.connections").Should().BeGreaterThanOrEqualTo(1);
            totals.GetValueOrDefault("platform.vnc.updates").Should().BeGreaterThanOrEqualTo(1);
            totals.GetValueOrDefault("platform.vnc.bytes_sent").Should().BeGreaterThanOrEqualTo(32 * 32 * 4);
        }
    }
}
