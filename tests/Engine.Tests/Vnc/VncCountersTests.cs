using System.Diagnostics.Metrics;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

public sealed class VncCountersTests
{
    [Fact]
    public async Task Connections_updates_and_bytes_are_published_as_metrics()
    {
        // A meter of this test's own: other servers, in tests running alongside, count into the shared one.
        using var meter = new Meter(VncCounters.MeterName);
        var totals = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter)
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
        using var server = new VncServer(framebuffer, new VncServerOptions { Counters = new VncCounters(meter) });
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
            totals.GetValueOrDefault("platform.vnc.connections").Should().Be(1);
            totals.GetValueOrDefault("platform.vnc.updates").Should().Be(1, "one request, one update");
            totals.GetValueOrDefault("platform.vnc.bytes_sent").Should().Be(server.BytesSent).And.BeGreaterThanOrEqualTo(32 * 32 * 4);
            totals.GetValueOrDefault("platform.vnc.protocol_errors").Should().Be(0);
        }
    }
}
