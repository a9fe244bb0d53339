using System.Net.Http.Json;
using Platform.E2E.Tests.Infrastructure;

namespace Platform.E2E.Tests;

/// <summary>
/// The bound, for real: the dashboard runs as its own process and records the host's history, is killed with
/// SIGKILL (no shutdown, no flush), and a new dashboard on the same data folder still has what was recorded, losing at
/// most the last minute.
/// </summary>
public sealed class HistoryKillTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("platform-kill9-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }

    [Fact]
    public async Task A_dashboard_killed_with_sigkill_loses_at_most_the_last_minute_of_history()
    {
        Dictionary<DateTimeOffset, double> before;
        DateTimeOffset killedAt;
        await using (var first = await DashboardProcess.StartAsync(_dataDirectory, Ct))
        {
            using var client = await first.SignInAsync(Ct);
            // Four 10 s samples of the host, as the API serves them.
            before = [];
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (before.Count < 4)
            {
                DateTime.UtcNow.Should().BeBefore(deadline, "the recorder samples the host every 10 s; the dashboard said:\n{0}", first.Output);
                await Task.Delay(TimeSpan.FromSeconds(2), Ct);
                before = await HostCpuAsync(client);
            }

            await first.KillAsync();
            killedAt = DateTimeOffset.UtcNow;
        }

        await using var second = await DashboardProcess.StartAsync(_dataDirectory, Ct);
        using var again = await second.SignInAsync(Ct);
        var after = await HostCpuAsync(again);

        // Everything recorded more than a minute before the kill is there, with the same values.
        foreach (var (at, value) in before.Where(p => p.Key < killedAt.AddMinutes(-1)))
        {
            after.Should().ContainKey(at).WhoseValue.Should().Be(value);
        }

        // And of the last minute, what was lost is at most that minute: the newest point seen before the kill, or one
        // within a minute of it, survived.
        var newestBefore = before.Keys.Max();
        after.Keys.Where(at => at <= newestBefore).Should().Contain(at => at >= newestBefore.AddMinutes(-1),
            "at most the last minute is lost (points seen: {0}; after the restart: {1})",
            string.Join(", ", before.Keys.Order()), string.Join(", ", after.Keys.Order()));
        // In fact nothing is: each sample is in the kernel's page cache once written, which SIGKILL does not touch.
        after.Should().ContainKey(newestBefore).WhoseValue.Should().Be(before[newestBefore]);
    }

    /// <summary>The host's CPU series of the last hour: each point that has a value, by its time.</summary>
    private static async Task<Dictionary<DateTimeOffset, double>> HostCpuAsync(HttpClient client)
    {
        var history = (await client.GetFromJsonAsync<History>("/api/v1/host/history?range=hour", Ct))!;
        var cpu = history.Series.Single(s => s.Name == "cpu").Values;
        return history.Timestamps.Zip(cpu).Where(p => p.Second is not null).ToDictionary(p => p.First, p => p.Second!.Value);
    }

    private sealed record History(DateTimeOffset[] Timestamps, Series[] Series);

    private sealed record Series(string Name, double?[] Values);
}
