using Microsoft.Win32.SafeHandles;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Control;

// blockdev-change-medium with "fd": true, the client and the server of control.sock together: the client sends an ISO it
// opened as a descriptor (SCM_RIGHTS) with the command's line, as the dashboard does for a jailed VMM that cannot open
// the library by name, and the VMM reads the descriptor, never the name. Each descriptor the VMM received is open exactly
// while its disc is in the drive (or kept for the next boot), and one sent with a command that does not take it is closed.
// The VMM runs in this process, so /proc/self/fd shows its descriptors.
public sealed class CdromDescriptorTests : IDisposable
{
    private static readonly TimeSpan BiosTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);

    private readonly string _dir = Directory.CreateTempSubdirectory("cdfd-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

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
    public async Task A_disc_passed_as_a_descriptor_boots_survives_reboots_and_is_closed_when_replaced_or_ejected()
    {
        await using var vm = ControlledVm.Start("hello", configure: FirmwareVm);
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        await vm.WaitForOutputAsync("PLATFORM-TEST mbr PASS", BiosTimeout);
        string first = CopyOfCdboot("first.iso");

        await PassAsync(client, "/library/cdboot.iso", first);
        File.Delete(first); // from here on only the descriptor reaches the disc

        (await CdromStatsAsync(client)).Medium.Should().Be("/library/cdboot.iso", "the drive reports the name sent with the descriptor");
        OpenDescriptorsTo(first).Should().Be(1, "the VMM holds the disc's descriptor, and this side closed its own");
        // The guest resets after its verdict: the second PASS is the next boot, which found the same descriptor's disc
        // (the file was deleted at once, so nothing could have opened it again by name).
        await WaitForCountAsync(vm, "PLATFORM-TEST cdboot PASS", 2);
        vm.Output.Should().Contain("volume PLATFORM_CDTEST");
        OpenDescriptorsTo(first).Should().Be(1, "a reboot carries the open disc over; it does not open another");

        string second = CopyOfCdboot("second.iso");
        await PassAsync(client, "/library/second.iso", second);
        (await CdromStatsAsync(client)).Medium.Should().Be("/library/second.iso");
        OpenDescriptorsTo(first).Should().Be(0, "the disc it replaced was closed");
        OpenDescriptorsTo(second).Should().Be(1);

        await client.EjectAsync("cdrom0", cancellationToken: Token);
        (await CdromStatsAsync(client)).Medium.Should().BeNull();
        OpenDescriptorsTo(second).Should().Be(0, "the ejected disc was closed");
    }

    [Fact]
    public async Task A_descriptor_with_a_command_that_does_not_take_it_or_that_is_refused_is_closed_and_the_command_fails()
    {
        await using var vm = ControlledVm.Start("echo", configure: c => c with { HasCdrom = true });
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        await using var client = await VmmControlClient.ConnectAsync(vm.ControlSocket, Token);
        string iso = CopyOfCdboot("stray.iso");
        string notIso = Path.Combine(_dir, "not-an-iso.img");
        await File.WriteAllBytesAsync(notIso, new byte[64 * 1024], Token);

        var withQueryStatus = () => SendAsync(client, iso, ControlProtocol.Commands.QueryStatus, null);
        var withoutFdTrue = () => SendAsync(client, iso, ControlProtocol.Commands.ChangeMedium, w =>
        {
            w.WriteString(ControlProtocol.MediumArguments.Device, "cdrom0");
            w.WriteString(ControlProtocol.MediumArguments.Filename, iso);
        });
        var withEject = () => SendAsync(client, iso, ControlProtocol.Commands.Eject, w => w.WriteString(ControlProtocol.MediumArguments.Device, "cdrom0"));
        var toAWrongDrive = () => SendAsync(client, iso, ControlProtocol.Commands.ChangeMedium, w =>
        {
            w.WriteString(ControlProtocol.MediumArguments.Device, "cdrom1");
            w.WriteString(ControlProtocol.MediumArguments.Filename, "cd.iso");
            w.WriteBoolean(ControlProtocol.MediumArguments.Fd, true);
        });
        var notAnIso = () => SendAsync(client, notIso, ControlProtocol.Commands.ChangeMedium, w =>
        {
            w.WriteString(ControlProtocol.MediumArguments.Device, "cdrom0");
            w.WriteString(ControlProtocol.MediumArguments.Filename, "disk.img");
            w.WriteBoolean(ControlProtocol.MediumArguments.Fd, true);
        });
        var fdTrueWithoutOne = () => client.ExecuteAsync(ControlProtocol.Commands.ChangeMedium, w =>
        {
            w.WriteString(ControlProtocol.MediumArguments.Device, "cdrom0");
            w.WriteString(ControlProtocol.MediumArguments.Filename, "cd.iso");
            w.WriteBoolean(ControlProtocol.MediumArguments.Fd, true);
        }, Token);

        (await withQueryStatus.Should().ThrowAsync<VmmControlException>()).Which.ErrorClass.Should().Be(ControlProtocol.ErrorClasses.InvalidCommand);
        (await withoutFdTrue.Should().ThrowAsync<VmmControlException>()).Which.ErrorClass.Should().Be(ControlProtocol.ErrorClasses.InvalidCommand);
        (await withEject.Should().ThrowAsync<VmmControlException>()).Which.ErrorClass.Should().Be(ControlProtocol.ErrorClasses.InvalidCommand);
        (await toAWrongDrive.Should().ThrowAsync<VmmControlException>()).Which.ErrorClass.Should().Be(ControlProtocol.ErrorClasses.DeviceNotFound);
        (await notAnIso.Should().ThrowAsync<VmmControlException>()).Which.ErrorClass.Should().Be(ControlProtocol.ErrorClasses.InvalidArgument);
        (await fdTrueWithoutOne.Should().ThrowAsync<VmmControlException>()).Which.Message.Should().Contain("exactly one descriptor");

        OpenDescriptorsTo(iso).Should().Be(0, "every refused command's descriptor was closed");
        OpenDescriptorsTo(notIso).Should().Be(0);
        (await CdromStatsAsync(client)).Medium.Should().BeNull("nothing went into the drive");
        (await client.QueryStatusAsync(Token)).Running.Should().BeTrue("the connection and the VMM carry on");
        await PassAsync(client, "/library/cdboot.iso", iso);
        (await CdromStatsAsync(client)).Medium.Should().Be("/library/cdboot.iso", "the same connection still passes a disc afterwards");
    }

    /// <summary>The kit's El Torito guest copied under a name of its own, so its descriptors can be counted.</summary>
    private string CopyOfCdboot(string name)
    {
        string copy = Path.Combine(_dir, name);
        File.Copy(TestGuests.CdImage("cdboot"), copy);
        return copy;
    }

    /// <summary>Opens <paramref name="path"/> read-only, passes it with the typed client, closes this side's descriptor and the file.</summary>
    private static async Task PassAsync(VmmControlClient client, string name, string path)
    {
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read))
        {
            await client.ChangeMediumAsync("cdrom0", name, file, Token);
        }

        OpenDescriptorsTo(path).Should().Be(1, "only the VMM's copy of the descriptor is left");
    }

    private static async Task SendAsync(VmmControlClient client, string path, string command, Action<System.Text.Json.Utf8JsonWriter>? arguments)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        await client.ExecuteAsync(command, arguments, file, Token);
    }

    /// <summary>This process's descriptors open on <paramref name="path"/> (the VMM's included: it runs in here).</summary>
    private static int OpenDescriptorsTo(string path) => Directory.EnumerateFileSystemEntries("/proc/self/fd").Count(link =>
    {
        try
        {
            return new FileInfo(link).LinkTarget is { } target && (target == path || target == path + " (deleted)");
        }
        catch (IOException)
        {
            return false; // closed while we looked
        }
    });

    private static async Task WaitForCountAsync(ControlledVm vm, string marker, int times)
    {
        var deadline = DateTime.UtcNow + BiosTimeout * times;
        while (Count(vm.Output, marker) < times)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, $"the guest should print \"{marker}\" {times} times; it printed:\n{vm.Output}");
            await Task.Delay(100, Token);
        }
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
