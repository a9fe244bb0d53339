namespace Platform.Web.Services.Networks;

/// <summary>The host's existing bridges, which an administrator picks a bridge network from.</summary>
public interface IHostBridges
{
    IReadOnlyList<string> List();
}

/// <summary>Bridges as sysfs shows them: interfaces with a <c>bridge</c> folder under <c>/sys/class/net</c>.</summary>
internal sealed class SysfsHostBridges : IHostBridges
{
    private const string NetClass = "/sys/class/net";

    public IReadOnlyList<string> List() =>
        Directory.Exists(NetClass)
            ? [.. Directory.EnumerateDirectories(NetClass).Where(d => Directory.Exists(Path.Combine(d, "bridge"))).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)]
            : [];
}
