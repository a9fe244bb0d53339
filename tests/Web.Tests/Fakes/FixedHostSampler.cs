using Platform.Web.Services.History;

namespace Platform.Web.Tests.Fakes;

/// <summary>A host whose figures never change: 12.5 % CPU, 1 of 2 GB memory, load 0.5/0.4/0.3, 5 GB used and 6 GB free.</summary>
public sealed class FixedHostSampler : IHostSampler
{
    public double[] Sample(int runningVms) => [12.5, 1e9, 2e9, 0.5, 0.4, 0.3, 5e9, 6e9, runningVms];
}
