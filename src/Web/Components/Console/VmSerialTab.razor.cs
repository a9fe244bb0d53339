namespace Platform.Web.Components.Console;

/// <summary>The Serial tab: xterm.js over <c>/vms/{id}/serial</c>, interactive.</summary>
public sealed partial class VmSerialTab
{
    protected override string ModulePath => "./js/serial-console.js";

    protected override string BridgePath => $"/vms/{Vm.Id}/serial";
}
