namespace Platform.Web.Components.Console;

/// <summary>The Console tab: noVNC over <c>/vms/{id}/vnc</c>, scaled to fit, with the toolbar.</summary>
public sealed partial class VmConsoleTab
{
    private bool _scaled = true;

    protected override string ModulePath => "./js/vnc-console.js";

    protected override string BridgePath => $"/vms/{Vm.Id}/vnc";

    protected override bool CanAttach => Vm.DisplayEnabled;

    private async Task SetScaledAsync(bool scaled)
    {
        _scaled = scaled;
        await CallAsync("setScaled", scaled);
    }
}
