using Platform.Web.Services.Networks;

namespace Platform.Web.Tests.Fakes;

/// <summary>Host bridges a test says the host has.</summary>
public sealed class FakeHostBridges : IHostBridges
{
    public List<string> Bridges { get; } = [];

    public IReadOnlyList<string> List() => [.. Bridges];
}
