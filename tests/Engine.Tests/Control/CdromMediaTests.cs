using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Control;

// eject and blockdev-change-medium over the control socket on a VM that reboots after each boot-sector guest: the
// drive starts empty, so SeaBIOS passes over it for the disk; a disc inserted at run time boots next; ejected, the disk
// boots again. The drive's contents carry over the reboots, as a real drive's.
public sealed class CdromMediaTests
{
    private static readonly TimeSpan BiosTimeout = TimeSpan.FromSeconds(90);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static MachineConfig FirmwareVm(MachineConfig _) => new()
    {
        Firmware = FirmwareKind.Bios,
        MemoryBytes = 128ul << 20,
        Display = DisplayKind.None,
        OnReboot = RebootPolicy.Restart,
        Disks = [new DiskOptions(TestGuests.BootImage("mbr"), ReadOnly: true)],
        HasCdrom = true,
        BootOrder = [BootDevice.Cdrom, BootDevice.Disk],
    };

    [Fact]
    public async Task A_disc_inserted_at_run_time_boots_next_and_after_an_eject_the_disk_boots_again()
    {
        string iso = TestGuests.CdImage("cdboot");
        await using var vm = ControlledVm.Start("hello", configure: FirmwareVm);
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);

        await vm.WaitForOutputAsync("PLATFORM-TEST mbr PASS", BiosTimeout);
        (await CdromStatsAsync(client)).Medium.Should().BeNull();
        await client.ChangeMediumAsync("cdrom0", iso, Token);
        (await CdromStatsAsync(client)).Medium.Should().Be(iso);

        await vm.WaitForOutputAsync("PLATFORM-TEST cdboot PASS", BiosTimeout);
        await client.EjectAsync("cdrom0", cancellationToken: Token);
        int mbrRuns = Count(vm.Output, "PLATFORM-TEST mbr PASS");

        var deadline = DateTime.UtcNow + BiosTimeout;
        while (Count(vm.Output, "PLATFORM-TEST mbr PASS") == mbrRuns && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Token);
        }

        Count(vm.Output, "PLATFORM-TEST mbr PASS").Should().BeGreaterThan(mbrRuns, vm.Output);
        (await CdromStatsAsync(client)).Medium.Should().BeNull();
    }

    [Fact]
    public async Task Wrong_drives_and_files_that_are_not_ISO_images_are_refused_with_their_error_class()
    {
        await using var vm = ControlledVm.Start("hello", configure: FirmwareVm);
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        await vm.WaitForOutputAsync("PLATFORM-TEST mbr", BiosTimeout);

        var notIso = () => client.ChangeMediumAsync("cdrom0", TestGuests.BootImage("mbr"), Token);
        (await notIso.Should().ThrowAsync<VmmControlException>()).Which.ErrorClass.Should().Be(ControlProtocol.ErrorClasses.InvalidArgument);
        var missing = () => client.ChangeMediumAsync("cdrom0", "/nonexistent.iso", Token);
        (await missing.Should().ThrowAsync<VmmControlException>()).Which.Message.Should().Contain("/nonexistent.iso");
        var wrongDrive = () => client.EjectAsync("cdrom1", cancellationToken: Token);
        (await wrongDrive.Should().ThrowAsync<VmmControlException>()).Which.ErrorClass.Should().Be(ControlProtocol.ErrorClasses.DeviceNotFound);
    }

    /// <summary>The drive's entry in query-stats, asked again while the VM is between two boots (no machine, no devices).</summary>
    private static async Task<DeviceStats> CdromStatsAsync(VmmControlClient client)
    {
        for (int attempt = 0; ; attempt++)
        {
            var drive = (await client.QueryStatsAsync(Token)).Devices.SingleOrDefault(d => d.Name == "cdrom0");
            if (drive is not null || attempt == 100)
            {
                return drive!;
            }

            await Task.Delay(50, Token);
        }
    }

    private static int Count(string text, string what)
    {
        int count = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
