namespace Platform.Web.Services.History;

/// <summary>The host's history values now, in <see cref="HistorySeriesSets.Host"/>'s order but for the running VMs.</summary>
public interface IHostSampler
{
    /// <summary>CPU busy since the previous call (0 on the first), memory, load, the data folder's file system.</summary>
    /// <param name="runningVms">The last value, which the caller knows.</param>
    double[] Sample(int runningVms);
}
