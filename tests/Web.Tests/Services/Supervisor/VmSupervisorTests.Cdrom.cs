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

    /// <summary>cdboot.iso uploaded to the library as an ISO.</summary>
    private static async Task<ImageResponse> UploadCdbootAsync(HttpClient client)
    {
        using var form = new MultipartFormDataContent { { new StringContent("iso"), "kind" } };
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(CdbootIso(), Token));
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        form.Add(file, "file", "cdboot.iso");
        var uploaded = await client.PostAsync("/api/v1/images", form, Token);
        uploaded.StatusCode.Should().Be(HttpStatusCode.Created, await uploaded.Content.ReadAsStringAsync(Token));
        var iso = (await uploaded.ReadAsync<ImageResponse>())!;
        iso.VolumeLabel.Should().Be("PLATFORM_CDTEST");
        return iso;
    }

    /// <summary>The descriptors of process <paramref name="pid"/> open on <paramref name="path"/> (root may look at any process's).</summary>
    private static int OpenDescriptorsTo(int pid, string path) => Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Count(link =>
    {
        try
        {
            return new FileInfo(link).LinkTarget == path;
        }
        catch (IOException)
        {
            return false; // closed while we looked
        }
    });

    [Fact]
    public async Task A_library_iso_inserted_into_a_running_jailed_vm_is_read_by_its_guest_across_reboots_until_ejected()
    {
        // The jailed VMM runs as the VM's uid in a root of its runtime folder: it can neither see nor open the library's
        // ISO (0600, the dashboard's). The dashboard opens it and passes the descriptor over control.sock.
        var app = NewApp();
        using var client = app.CreateClient();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        var iso = await UploadCdbootAsync(client);
        string mbr = Path.Combine(Path.GetDirectoryName(SupervisedAppFactory.TestGuest("hello"))!, "mbr.img");
        var created = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "cd-insert", bootMode = "Firmware", memoryMiB = 128, displayEnabled = false, onReboot = "Restart",
            disks = new[] { new { path = mbr, readOnly = true } }, cdrom = new { imageId = (Guid?)null },
            bootOrder = new[] { "Cdrom", "Disk" },
        }, ApiJson.Options, Token);
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Token));
        var vm = (await created.ReadAsync<VmResponse>())!;
        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        int pid = PidOf(app, vm.Id);
        Status(pid)["Seccomp"].Should().Be("2", "the VMM is the jailed one");
        Status(pid)["Uid"].Split('\t').Should().NotContain("0");
        await ReadSerialUntilAsync(info, vm.Id, "PLATFORM-TEST mbr PASS"); // SeaBIOS passed over the empty drive
        string libraryPath = Path.Combine(app.Services.GetRequiredService<Platform.Web.Extensions.PlatformOptions>().ImagesDirectory, iso.FileName);
        OpenDescriptorsTo(pid, libraryPath).Should().Be(0, "the drive starts empty");

        var inserted = await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cdrom/medium", new { imageId = iso.Id }, ApiJson.Options, Token);

        inserted.StatusCode.Should().Be(HttpStatusCode.OK, await inserted.Content.ReadAsStringAsync(Token));
        // The guest resets after its verdict: the second PASS is a reboot whose drive still held the passed disc.
        string serial = await ReadSerialUntilAsync(info, vm.Id, "PLATFORM-TEST cdboot PASS", times: 2);
        serial.Should().Contain("cdboot: int 13h extended read of sector 16: volume PLATFORM_CDTEST");
        (await RunningCdromAsync(client, vm.Id)).MediumImageId.Should().Be(iso.Id, "the VMM names the disc by the library path it was passed with");
        OpenDescriptorsTo(pid, libraryPath).Should().Be(1, "the VMM reads the one descriptor the dashboard passed");

        var ejected = await client.DeleteAsync($"/api/v1/vms/{vm.Id}/cdrom/medium", Token);

        ejected.StatusCode.Should().Be(HttpStatusCode.OK, await ejected.Content.ReadAsStringAsync(Token));
        (await RunningCdromAsync(client, vm.Id)).MediumImageId.Should().BeNull();
        OpenDescriptorsTo(pid, libraryPath).Should().Be(0, "the VMM closed the ejected disc's descriptor");
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
    }

    [Fact]
    public async Task A_firmware_vm_boots_the_library_iso_in_its_drive_and_eject_empties_the_running_drive()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var iso = await UploadCdbootAsync(client);

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
