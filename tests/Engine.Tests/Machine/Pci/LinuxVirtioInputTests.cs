using System.Text;
using Platform.Engine.Kvm;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Display;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine.Pci;

// The Debian kernel's own virtio_input driver on our tablet and keyboard: Linux registers both with the capabilities
// they declare, and text typed over VNC reaches its console once — through the virtio keyboard, not also through
// PS/2. Needs hardware KVM.
public sealed class LinuxVirtioInputTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Linux_registers_the_tablet_and_keyboard_and_reads_typed_text_once()
    {
        Assert.SkipWhen(KvmSystem.DetectKind() == KvmKind.Pvm, LinuxGuestBootTests.PvmReason);

        string command = Convert.ToBase64String(Encoding.ASCII.GetBytes(
            "cat /proc/bus/input/devices; echo PLATFORM-TYPE-NOW; read -t 60 -r line </dev/tty1; echo \"typed=[$line]\""));
        await using var vm = ControlledVm.Start("hello", configure: c => c with
        {
            KernelPath = GuestImages.Path("vmlinuz"),
            InitrdPath = GuestImages.Path("initramfs.cpio.gz"),
            CommandLine = $"console=ttyS0 panic=-1 platform.cmd={command}",
            MemoryBytes = 512ul << 20,
            CpuCount = 2,
        });
        string devices = await vm.WaitForOutputAsync("PLATFORM-TYPE-NOW", Timeout);
        devices.Should().Contain("N: Name=\"Platform Virtio Tablet\"").And.Contain("I: Bus=0006 Vendor=0627 Product=0003 Version=0002");
        devices.Should().Contain("B: ABS=3").And.Contain("B: REL=100");
        devices.Should().Contain("N: Name=\"Platform Virtio Keyboard\"").And.Contain("I: Bus=0006 Vendor=0627 Product=0001 Version=0001");
        devices.Should().Contain("B: LED=7");

        await using var client = await FbGuestScreen.ConnectUnixAsync(vm.VncSocket);
        foreach (uint keysym in new uint[] { 'h', 'i', 0xFF0D })
        {
            await client.SendKeyAsync(keysym, down: true);
            await client.SendKeyAsync(keysym, down: false);
        }

        string output = await vm.WaitForOutputAsync("PLATFORM-CMD-EXIT=", Timeout);
        output.Should().Contain("typed=[hi]", "each key reached Linux once");
        output.Should().Contain("PLATFORM-CMD-EXIT=0");
    }
}
