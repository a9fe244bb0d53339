namespace Platform.Web.Services.Tasks;

/// <summary>
/// Who the code running now acts for, as the task log names them: set around each API request
/// (<c>ApiAuthorizationFilter</c>) and each event of a page's circuit (<c>TaskActorCircuitHandler</c>), so a service
/// that begins a task need not be handed the user through every call. Work of the dashboard's own (the daily backup)
/// runs with none, and its tasks show no user; the supervisor's autostarts and crash restarts name <see cref="System"/>.
/// </summary>
public static class TaskActor
{
    /// <summary>Who the supervisor's own starts (autostart, a restart after a crash) are by.</summary>
    public const string System = "system";

    private static readonly AsyncLocal<string?> CurrentName = new();

    /// <summary>The user name the current request or page event acts for; null for the dashboard's own work.</summary>
    public static string? Current => CurrentName.Value;

    /// <summary>Acts for <paramref name="userName"/> until the returned scope is disposed (on the same flow).</summary>
    public static IDisposable Use(string? userName)
    {
        string? previous = CurrentName.Value;
        CurrentName.Value = userName;
        return new Restore(previous);
    }

    private sealed class Restore(string? previous) : IDisposable
    {
        public void Dispose() => CurrentName.Value = previous;
    }
}
