using Platform.Engine.Kvm;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Display;

// The Debian kernel on the std-vga with no driver of its own: vesafb finds the framebuffer through screen_info and
// fbcon draws the boot text on it, which a VNC client on vnc.sock sees. Needs hardware KVM.
public sealed class LinuxFramebufferTests
{
    // ./platform test fails on any skip but these, which it knows by the reason's first words: keep them.
    private const string PvmReason =
        "KVM here is the PVM module: guest CPL 0 code is emulated and int n, syscall and CPL 3 → CPL 0 transitions fail, " +
        "so a stock Linux kernel cannot boot (see docs/architecture.md). screen_info is checked in KernelLoaderTests.";

    /// <summary>fbcon's default foreground: VGA colour 7, light grey.</summary>
    private const uint ConsoleGrey = 0xAAAAAA;

    [Fact]
    public async Task Debian_kernels_fbcon_boot_text_appears_in_a_VNC_capture()
    {
        Assert.SkipWhen(KvmSystem.DetectKind() == KvmKind.Pvm, PvmReason);

        await using var vm = ControlledVm.Start("hello", configure: c => c with
        {
            KernelPath = GuestImages.Path("vmlinuz"),
            InitrdPath = GuestImages.Path("initramfs.cpio.gz"),
            // tty0 first: fbcon shows the kernel's messages; the last console (ttyS0) gets init's.
            CommandLine = "console=tty0 console=ttyS0 panic=-1",
            MemoryBytes = 512ul << 20,
            CpuCount = 2,
        });
        await vm.WaitForOutputAsync("PLATFORM-GUEST-READY", TimeSpan.FromSeconds(90));
        vm.Output.Should().Contain("vesafb: mode is 1024x768x32", "vesafb took the framebuffer screen_info describes");

        await using var client = await FbGuestScreen.ConnectUnixAsync(vm.VncSocket);
        await FbGuestScreen.ReadUntilAsync(client, c => c.Width == 1024 && Count(c.Screen, ConsoleGrey) > 5000, TimeSpan.FromSeconds(30),
            "fbcon's text on the 1024x768 screen set up for the kernel");
        client.Height.Should().Be(768);

        // Text is grey on black in 8x16 cells from the top left: the first line has both.
        var firstLine = client.Screen.AsSpan(0, 1024 * 16).ToArray();
        Count(firstLine, ConsoleGrey).Should().BePositive();
        Count(firstLine, 0).Should().BeGreaterThan(1024 * 16 / 2);
    }

    private static int Count(uint[] pixels, uint colour) => pixels.Count(p => (p & 0xFFFFFF) == colour);
}
