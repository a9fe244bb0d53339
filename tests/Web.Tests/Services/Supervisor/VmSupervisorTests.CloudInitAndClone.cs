using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Supervisor;

// cloud-init's seed and clones with a real VMM: the guest finds the seed as a read-only disk after its own, and a full
// copy of a VM boots the same test guest on its copied disk.
public sealed partial class VmSupervisorTests
{
    [Fact]
    public async Task The_guest_sees_the_cloud_init_seed_as_its_last_disk_and_cannot_write_it()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        // Disk 0 is the VM's own blank disk; disk 1, the seed, must refuse the guest's write (mode=ro: IOERR, data unchanged).
        var vm = await CreateAsync(client, "seeded", "blk", new
        {
            commandLine = "mode=ro disk=1 end=halt", onReboot = "Exit", displayEnabled = false,
            disks = new[] { new { blank = new { sizeBytes = 1 << 20 } } },
            cloudInit = new { userName = "alice", password = "guest-pass" },
        });

        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        await ReadSerialUntilAsync(app.Services.GetRequiredService<IVmRuntimeInfo>(), vm.Id, "PLATFORM-TEST blk PASS");
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);

        File.Exists(Path.Combine(app.DataDirectory, "disks", vm.Id.ToString("N"), "cidata.iso")).Should().BeTrue("the start wrote the seed");
    }

    [Fact]
    public async Task A_full_copy_boots_the_same_test_guest_on_its_copied_disk()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var source = await CreateAsync(client, "original", "blk", new
        {
            commandLine = "sector=8 count=16 writes=4 seed=0x61 end=halt", onReboot = "Exit", displayEnabled = false,
            disks = new[] { new { blank = new { sizeBytes = 8 << 20 } } },
        });
        (await PowerAsync(client, source.Id, "start")).Should().Be(VmPowerState.Running);
        await ReadSerialUntilAsync(app.Services.GetRequiredService<IVmRuntimeInfo>(), source.Id, "PLATFORM-TEST blk PASS");
        (await PowerAsync(client, source.Id, "stop")).Should().Be(VmPowerState.Stopped);

        var started = await client.PostAsJsonAsync($"/api/v1/vms/{source.Id}/clone", new { name = "copy", mode = "full" }, ApiJson.Options, Token);
        started.StatusCode.Should().Be(HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync(Token));
        var job = (await started.ReadAsync<CloneJobResponse>())!;
        while (job.State == CloneJobState.Running)
        {
            await Task.Delay(50, Token);
            job = (await client.GetFromJsonAsync<CloneJobResponse>(started.Headers.Location, ApiJson.Options, Token))!;
        }

        (job.State, job.Percent, job.CopiedBytes).Should().Be((CloneJobState.Succeeded, 100, 8L << 20), job.Message);
        var copy = (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{job.NewVmId}", ApiJson.Options, Token))!;
        copy.Disks.Single().Own.Should().BeTrue();
        string original = (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{source.Id}", ApiJson.Options, Token))!.Disks[0].FilePath!;
        QemuTools.Run("qemu-img", "compare", "-U", original, copy.Disks[0].FilePath!).ExitCode.Should().Be(0, "the copy holds what the guest wrote");

        // The copy boots the same guest, which writes and reads back its own disk.
        (await PowerAsync(client, copy.Id, "start")).Should().Be(VmPowerState.Running);
        await ReadSerialUntilAsync(app.Services.GetRequiredService<IVmRuntimeInfo>(), copy.Id, "PLATFORM-TEST blk PASS");
        (await PowerAsync(client, copy.Id, "stop")).Should().Be(VmPowerState.Stopped);
    }

    [Fact]
    public async Task Growing_a_running_vms_disk_through_the_api_reaches_the_guest()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var vm = await CreateAsync(client, "grow-live", "blk", new
        {
            commandLine = "mode=resize seed=0x77 wait=60 end=halt", onReboot = "Exit", displayEnabled = false,
            disks = new[] { new { blank = new { sizeBytes = 4 << 20 } } },
        });
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        await ReadSerialUntilAsync(info, vm.Id, "waiting for a configuration change");

        var grown = await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/0/resize", new { sizeBytes = 8 << 20 }, ApiJson.Options, Token);

        grown.StatusCode.Should().Be(HttpStatusCode.OK, await grown.Content.ReadAsStringAsync(Token));
        (await grown.ReadAsync<VmDiskResponse>())!.VirtualSizeBytes.Should().Be(8 << 20);
        string serial = await ReadSerialUntilAsync(info, vm.Id, "PLATFORM-TEST blk PASS");
        serial.Should().Contain("capacity 16384 sectors (was 8192)", "the guest read the new size after the configuration change interrupt");
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
    }
}
