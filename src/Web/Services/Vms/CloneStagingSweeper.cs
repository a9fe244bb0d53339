using Platform.Web.Extensions;

namespace Platform.Web.Services.Vms;

/// <summary>
/// Removes the staging folders (<c>disks/.clone-{job}/</c>) that clones left when the dashboard ended in the middle of
/// one (a crash, a kill -9): a clone's job lives in the dashboard's memory, so at start none can be running, and what
/// a staging folder holds is never a VM's disk until the clone is saved (<see cref="VmCloneService"/>). Without this
/// they would fill the disk unseen, since no VM and no page names them.
/// </summary>
internal sealed partial class CloneStagingSweeper(PlatformOptions options, ILogger<CloneStagingSweeper> logger) : IHostedService
{
    public const string Prefix = ".clone-";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(options.DisksDirectory))
        {
            return Task.CompletedTask;
        }

        foreach (string staging in Directory.EnumerateDirectories(options.DisksDirectory, Prefix + "*"))
        {
            try
            {
                Directory.Delete(staging, recursive: true);
                Log.Removed(logger, staging);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.NotRemoved(logger, ex, staging);
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Removed {Folder}, left by a clone the dashboard did not finish")]
        public static partial void Removed(ILogger logger, string folder);

        [LoggerMessage(LogLevel.Warning, "Could not remove {Folder}, left by a clone the dashboard did not finish")]
        public static partial void NotRemoved(ILogger logger, Exception exception, string folder);
    }
}
