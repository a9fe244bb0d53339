using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Supervisor;

// A VM defined through the API with an ISO from the library in its CD-ROM drive, booted by SeaBIOS with real VMMs.
public sealed partial class VmSupervisorTests
{
    /// <summary>The kit's El Torito guest (tests/guests/boot/cdboot.S), built beside the ELF guests.</summary>
    private static string CdbootIso() =>
        Path.Combine(Path.GetDirectoryName(SupervisedAppFactory.TestGuest("hello"))!, "cdboot.iso") is var iso && File.Exists(iso)
            ? iso
            : throw new FileNotFoundException("cdboot.iso is missing: run make -C tests/guests (it needs xorriso).");

    /// <summary>The drive's status as the API gives it, once the VMM reports a running machine.</summary>
    private static async Task<VmCdromStatusResponse> RunningCdromAsync(HttpClient client, Guid vmId)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var status = (await client.GetFromJsonAsync<VmCdromStatusResponse>($"/api/v1/vms/{vmId}/cdrom", ApiJson.Options, Token))!;
            if (status.Running)
            {
                return status;
            }

            waited.Elapsed.Should().BeLessThan(Timeout, "a boot comes after the reset");
            await Task.Delay(20, Token);
        }
    }

    [Fact]
    public async Task A_firmware_vm_boots_the_library_iso_in_its_drive_and_eject_empties_the_running_drive()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        using var form = new MultipartFormDataContent { { new StringContent("iso"), "kind" } };
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(CdbootIso(), Token));
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        form.Add(file, "file", "cdboot.iso");
        var uploaded = await client.PostAsync("/api/v1/images", form, Token);
        uploaded.StatusCode.Should().Be(HttpStatusCode.Created, await uploaded.Content.ReadAsStringAsync(Token));
        var iso = (await uploaded.ReadAsync<ImageResponse>())!;
        iso.VolumeLabel.Should().Be("PLATFORM_CDTEST");

        var created = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "cd-boot", bootMode = "Firmware", memoryMiB = 128, displayEnabled = false, onReboot = "Restart",
            cdrom = new { imageId = iso.Id }, bootOrder = new[] { "Cdrom" },
        }, ApiJson.Options, Token);
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Token));
        var vm = (await created.ReadAsync<VmResponse>())!;

        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        // The guest pulses the reset line after its verdict: the second PASS is a reboot that found the disc again. The
        // VMM runs jailed as the VM's uid there, and the library's ISO is the dashboard's (0600): it reads the file it
        // opened before the jail (KeptFiles), not the name, which it could not open.
        string serial = await ReadSerialUntilAsync(app.Services.GetRequiredService<IVmRuntimeInfo>(), vm.Id, "PLATFORM-TEST cdboot PASS", times: 2);

        serial.Should().Contain("cdboot: booted from drive 0xe0")
            .And.Contain("cdboot: int 13h extended read of sector 16: volume PLATFORM_CDTEST");
        string vmJson = await File.ReadAllTextAsync(Path.Combine(app.DataDirectory, "run", vm.Id.ToString("N"), "vm.json"), Token);
        vmJson.Should().Contain("\"firmware\": \"bios\"").And.Contain("\"boot_order\": [").And.Contain("cdboot.iso");
        // The guest keeps resetting (on-reboot restart), and between two boots its VMM has no drive to report: each
        // look at the running drive waits for a boot.
        var live = await RunningCdromAsync(client, vm.Id);
        (live.MediumImageId, live.ImageId).Should().Be(((Guid?)iso.Id, (Guid?)iso.Id), "the VMM reports the library's ISO in its drive");

        var ejected = await client.DeleteAsync($"/api/v1/vms/{vm.Id}/cdrom/medium", Token);

        ejected.StatusCode.Should().Be(HttpStatusCode.OK, await ejected.Content.ReadAsStringAsync(Token));
        var empty = await RunningCdromAsync(client, vm.Id);
        (empty.MediumImageId, empty.OtherMedium, empty.ImageId).Should().Be(((Guid?)null, false, (Guid?)null), "the running VMM's drive is empty now, and stays so across its reboots");
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var drive = (await info.GetStatsAsync(vm.Id, Token))?.Devices.SingleOrDefault(d => d.Name == "cdrom0");
            if (drive is not null)
            {
                drive.Medium.Should().BeNull();
                break;
            }

            waited.Elapsed.Should().BeLessThan(Timeout, "a boot comes after the reset");
            await Task.Delay(20, Token);
        }
        (await client.DeleteAsync($"/api/v1/images/{iso.Id}", Token)).StatusCode.Should().Be(HttpStatusCode.NoContent,
            "an ejected disc is in no drive, so the library may let it go");
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
    }
}
