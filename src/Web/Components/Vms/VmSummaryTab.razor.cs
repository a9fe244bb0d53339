using Platform.Web.Data;

namespace Platform.Web.Components.Vms;

/// <summary>The VM at a glance: state, resources, boot source and policies.</summary>
public partial class VmSummaryTab
{
    private string Boot => Vm.BootMode == BootMode.Firmware
        ? $"firmware (BIOS): {Platform.Web.Services.Vms.BootOrders.Describe(Vm.BootOrder)}"
          + (Vm.HasCdrom ? $"; CD-ROM: {Vm.CdromImage?.FileName ?? "empty"}" : "")
        : Vm.BootMode == BootMode.Disk
        ? "from the first disk (the kernel its boot configuration names)"
        : $"kernel {Vm.KernelImage?.FileName ?? Vm.KernelPath}" + ((Vm.InitrdImage?.FileName ?? Vm.InitrdPath) is { } initrd ? $", initrd {initrd}" : "");
}
