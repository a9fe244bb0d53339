using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// Real guests under /dev/kvm: the test-guest kit's ELF kernels, entered through PVH, reporting on COM1.
public sealed class TestGuestBootTests
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Hello_guest_boots_through_PVH_and_passes()
    {
        var serial = new SerialCapture();
        using var machine = MachineInstance.Create(new MachineConfig
        {
            KernelPath = TestGuests.Path("hello"),
            CommandLine = "hello=1 from=platform",
            MemoryBytes = 64ul << 20,
        }, serial);
        machine.Start();

        string output = await serial.WaitForAsync("PLATFORM-TEST hello PASS", GuestTimeout);
        output.Should().Contain("PLATFORM-TEST hello START").And.Contain("from=platform");
    }
}
