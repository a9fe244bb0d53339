using Bunit;
using Microsoft.AspNetCore.Components;
using Platform.Web.Components.Console;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Tests.Components.Console;

// The console tabs attach their JS console to the bridge while the VM runs, and only then.
public sealed class ConsoleTabsTests : DashboardTestContext
{
    private static VirtualMachine Vm(bool display = true) => new() { Name = "console-vm", KernelPath = "/boot/vmlinuz", DisplayEnabled = display };

    [Fact]
    public void The_serial_tab_attaches_xterm_to_the_serial_bridge_of_a_running_vm()
    {
        var vm = Vm();
        var module = JSInterop.SetupModule("./js/serial-console.js");
        module.Setup<IJSObjectReferenceStub>("attach", _ => true);

        var cut = Render<VmSerialTab>(p => p.Add(c => c.Vm, vm).Add(c => c.State, VmPowerState.Running));

        // The path carries a fresh console ticket, fetched on the server first.
        cut.WaitForAssertion(() => module.VerifyInvoke("attach"));
        var attach = module.VerifyInvoke("attach");
        attach.Arguments[1].Should().BeOfType<string>().Which.Should().StartWith($"/vms/{vm.Id}/serial?ticket=");
        cut.Find("[data-testid=serial-status]").TextContent.Should().Be("connecting");
    }

    [Fact]
    public void A_stopped_vm_gets_no_console_and_says_why()
    {
        var module = JSInterop.SetupModule("./js/serial-console.js");

        var cut = Render<VmSerialTab>(p => p.Add(c => c.Vm, Vm()).Add(c => c.State, VmPowerState.Stopped));

        cut.Find("[data-testid=serial-not-running]").TextContent.Should().Contain("not running");
        module.Invocations.Should().BeEmpty();
    }

    [Fact]
    public void The_console_tab_attaches_novnc_to_the_vnc_bridge_and_a_vm_without_display_points_to_serial()
    {
        var vm = Vm();
        var module = JSInterop.SetupModule("./js/vnc-console.js");
        module.Setup<IJSObjectReferenceStub>("attach", _ => true);

        var cut = Render<VmConsoleTab>(p => p.Add(c => c.Vm, vm).Add(c => c.State, VmPowerState.Running));
        cut.WaitForAssertion(() => module.VerifyInvoke("attach"));
        module.VerifyInvoke("attach").Arguments[1].Should().BeOfType<string>().Which.Should().StartWith($"/vms/{vm.Id}/vnc?ticket=");
        cut.Find("[data-testid=console-toolbar]");

        var headless = Render<VmConsoleTab>(p => p.Add(c => c.Vm, Vm(display: false)).Add(c => c.State, VmPowerState.Running));
        headless.Find("[data-testid=console-no-display]").TextContent.Should().Contain("Serial");
        module.Invocations.Count(i => i.Identifier == "attach").Should().Be(1);
    }

    [Fact]
    public async Task The_toolbar_sends_ctrl_alt_del_and_types_text_then_clears_it()
    {
        int cad = 0;
        string? typed = null;
        var cut = Render<ConsoleToolbar>(p => p
            .Add(c => c.Status, "connected")
            .Add(c => c.OnCtrlAltDel, EventCallback.Factory.Create(this, () => cad++))
            .Add(c => c.OnType, EventCallback.Factory.Create<string>(this, text => typed = text)));

        cut.Find("[data-testid=console-type]").HasAttribute("disabled").Should().BeTrue("there is nothing to type yet");
        await cut.Find("[data-testid=console-cad]").ClickAsync(new());
        cut.Find("input[data-testid=console-type-text]").Input("ls -l\n");
        await cut.Find("[data-testid=console-type]").ClickAsync(new());

        cad.Should().Be(1);
        typed.Should().Be("ls -l\n");
        cut.Find("[data-testid=console-type]").HasAttribute("disabled").Should().BeTrue("the text was typed and cleared");
        cut.Find("[data-testid=console-status]").TextContent.Should().Be("connected");
    }

    /// <summary>What the JS module's attach returns; bUnit hands back an object reference for it.</summary>
    private sealed class IJSObjectReferenceStub;
}
