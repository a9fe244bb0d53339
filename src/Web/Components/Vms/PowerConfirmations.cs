using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Vms;

/// <summary>
/// Which power actions this session (one browser tab's circuit) no longer asks about: a user who ticked "don't ask
/// again" is not asked again until the page is loaded anew.
/// </summary>
public sealed class PowerConfirmations
{
    private readonly HashSet<VmPowerAction> _dontAsk = [];

    /// <summary>Stop pulls the plug and Reset reboots at once: both lose what the guest had not written.</summary>
    public static bool AsksFirst(VmPowerAction action) => action is VmPowerAction.Stop or VmPowerAction.Reset;

    public bool ShouldAsk(VmPowerAction action) => AsksFirst(action) && !_dontAsk.Contains(action);

    public void StopAsking(VmPowerAction action) => _dontAsk.Add(action);
}
