using Platform.Web.Services.Host;

namespace Platform.Web.Tests.Fakes;

/// <summary>A host of a known size, so memory rules do not depend on the machine the tests run on.</summary>
public sealed class FixedHostInfo : IHostInfo
{
    public HostSnapshot Snapshot { get; set; } = new("Test CPU @ 3.00GHz", 8, 16384, 12000, KvmKind.HardwareIntel);

    public HostSnapshot Read() => Snapshot;
}
