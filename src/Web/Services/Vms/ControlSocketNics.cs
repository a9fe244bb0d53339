using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Vms;

/// <summary>
/// <see cref="IRunningNics"/> over the VM's <c>control.sock</c>. The VMM names the NIC at position N <c>netN</c> (the
/// definition's NICs go to it in position order), and reports its cable as the <c>link_up</c> counter of that device.
/// </summary>
internal sealed class ControlSocketNics(IVmRuntimeInfo runtimeInfo) : IRunningNics
{
    private const string LinkUpCounter = "link_up";

    /// <summary>The VMM's name for the NIC at <paramref name="position"/>.</summary>
    public static string DeviceOf(int position) => $"net{position.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    public async Task SetLinkAsync(Guid vmId, int position, bool up, CancellationToken cancellationToken)
    {
        try
        {
            // Through the checked connect, never the name: the jailed VM owns the folder the socket is in.
            await using var client = await Supervisor.VmmSockets.ConnectControlAsync(runtimeInfo, vmId, cancellationToken);
            await client.SetLinkAsync(DeviceOf(position), up, cancellationToken);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException)
        {
            throw new VmRuntimeException($"The VMM cannot be reached: {ex.Message}", ex);
        }
        catch (VmmControlException ex) when (ex.ErrorClass == ControlProtocol.ErrorClasses.DeviceNotFound)
        {
            // The definition has the NIC but the running machine does not: it was added after the VM started.
            throw new VmRuntimeException($"The running VM does not have that NIC ({ex.Message}); it was added after the VM started: restart the VM first.", ex);
        }
        catch (VmmControlException ex)
        {
            throw new VmRuntimeException($"The VMM did not change the link: {ex.Message}", ex);
        }
    }

    public async Task<IReadOnlyList<NicLinkState>?> QueryAsync(Guid vmId, CancellationToken cancellationToken) =>
        await runtimeInfo.GetStatsAsync(vmId, cancellationToken) is { } stats ? From(stats) : null;

    /// <summary>The NICs' links in one <c>query-stats</c> answer (the pages read them from the stats they follow).</summary>
    public static IReadOnlyList<NicLinkState> From(VmmStats stats) =>
    [
        .. stats.Devices
            .Where(d => d.Kind == "virtio-net" && d.Name.StartsWith("net", StringComparison.Ordinal) && d.Counters.ContainsKey(LinkUpCounter))
            .Select(d => (Device: d, Parsed: int.TryParse(d.Name.AsSpan(3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) ? n : -1))
            .Where(d => d.Parsed >= 0)
            .Select(d => new NicLinkState(d.Parsed, d.Device.Counters[LinkUpCounter] != 0))
            .OrderBy(n => n.Position),
    ];
}
