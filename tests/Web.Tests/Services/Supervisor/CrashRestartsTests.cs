using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Services.Supervisor;

public sealed class CrashRestartsTests : IDisposable
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private readonly string _folder = Directory.CreateTempSubdirectory("crash-restarts-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static SupervisorOptions Options(int limit = 5, double maxSeconds = 30) => new()
    {
        CrashRestartDelay = TimeSpan.FromSeconds(1), CrashRestartMaxDelay = TimeSpan.FromSeconds(maxSeconds),
        CrashRestartLimit = limit, CrashRestartWindow = TimeSpan.FromMinutes(10),
    };

    [Fact]
    public void Each_crash_doubles_the_pause_until_the_limit_gives_up()
    {
        var crashes = new List<DateTimeOffset>();
        var decisions = Enumerable.Range(0, 5).Select(i => CrashRestarts.Decide(crashes, Noon.AddSeconds(i * 20), Options())).ToList();

        decisions.Should().Equal(
            new CrashDecision(true, 1, TimeSpan.FromSeconds(1)),
            new CrashDecision(true, 2, TimeSpan.FromSeconds(2)),
            new CrashDecision(true, 3, TimeSpan.FromSeconds(4)),
            new CrashDecision(true, 4, TimeSpan.FromSeconds(8)),
            new CrashDecision(false, 5, TimeSpan.Zero));
    }

    [Fact]
    public void The_pause_stops_growing_at_the_cap()
    {
        Enumerable.Range(1, 6).Select(n => CrashRestarts.DelayAfter(n, Options(maxSeconds: 5)).TotalSeconds)
            .Should().Equal(1, 2, 4, 5, 5, 5);
    }

    [Fact]
    public void Crashes_older_than_the_window_no_longer_count()
    {
        var crashes = new List<DateTimeOffset> { Noon.AddMinutes(-30), Noon.AddMinutes(-12), Noon.AddMinutes(-10), Noon.AddMinutes(-9) };

        var decision = CrashRestarts.Decide(crashes, Noon, Options(limit: 3));

        decision.Should().Be(new CrashDecision(true, 2, TimeSpan.FromSeconds(2)), "only the crash 9 minutes ago and this one are within 10 minutes");
        crashes.Should().Equal(Noon.AddMinutes(-9), Noon);
    }

    [Fact]
    public void A_limit_of_one_never_restarts()
    {
        CrashRestarts.Decide([], Noon, Options(limit: 1)).Restart.Should().BeFalse();
    }

    [Fact]
    public void The_record_of_a_due_restart_keeps_the_crash_times()
    {
        CrashRestarts.ReadPending(_folder).Should().BeNull("nothing is due");
        var crashes = new[] { Noon.AddMinutes(-3), Noon };

        CrashRestarts.WritePending(_folder, crashes);

        CrashRestarts.ReadPending(_folder).Should().Equal(crashes);
        CrashRestarts.DeletePending(_folder);
        CrashRestarts.ReadPending(_folder).Should().BeNull();
        CrashRestarts.DeletePending(Path.Combine(_folder, "gone"));
        CrashRestarts.ReadPending(Path.Combine(_folder, "gone")).Should().BeNull();
    }

    [Theory]
    [InlineData(100, "100 ms")]
    [InlineData(1500, "1.5 s")]
    [InlineData(600_000, "10 min")]
    public void Pauses_read_as_a_person_says_them(int milliseconds, string text) =>
        CrashRestarts.Describe(TimeSpan.FromMilliseconds(milliseconds)).Should().Be(text);
}
