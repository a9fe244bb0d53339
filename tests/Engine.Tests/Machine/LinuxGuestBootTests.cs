using Platform.Engine.Kvm;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// The Debian kernel and initramfs from scripts/guest-images.sh, booted to the init's marker. Needs hardware KVM.
public sealed class LinuxGuestBootTests
{
    // ./platform test fails on any skip but these, which it knows by the reason's first words: keep them.
    internal const string PvmReason =
        "KVM here is the PVM module: guest CPL 0 code is emulated and int n, syscall and CPL 3 → CPL 0 transitions fail, " +
        "so a stock Linux kernel cannot boot (see docs/architecture.md). The loader is checked against this kernel in KernelLoaderTests.";

    [Theory]
    [InlineData("vmlinuz")]
    [InlineData("vmlinux")]
    public async Task Debian_kernel_boots_to_the_initramfs_marker_and_runs_a_command(string kernel)
    {
        Assert.SkipWhen(KvmSystem.DetectKind() == KvmKind.Pvm, PvmReason);

        var serial = new SerialCapture();
        string command = Convert.ToBase64String("echo platform-linux-$((6*7))"u8);
        using var machine = MachineInstance.Create(new MachineConfig
        {
            KernelPath = GuestImages.Path(kernel),
            InitrdPath = GuestImages.Path("initramfs.cpio.gz"),
            CommandLine = $"console=ttyS0 panic=-1 platform.cmd={command}",
            MemoryBytes = 512ul << 20,
            CpuCount = 2,
        }, serial);
        machine.Start();

        await serial.WaitForAsync("PLATFORM-GUEST-READY", TimeSpan.FromSeconds(60));
        string output = await serial.WaitForAsync("PLATFORM-CMD-EXIT=0", TimeSpan.FromSeconds(30));
        output.Should().Contain("platform-linux-42");
        var exit = await machine.Exited.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        exit.Reason.Should().Be(MachineExitReason.Reset, "init reboots when the command is done");
    }
}
