using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

/// <summary>
/// ISO images in the library, a CD-ROM drive and a firmware boot order in a VM's definition, and Insert/Eject through
/// <c>/api/v1/vms/{id}/cdrom/medium</c>, on a stopped VM (the definition) and a running one (a VMM played by
/// <see cref="FakeRunningCdrom"/>; the real VMM is in <c>VmSupervisorTests.Cdrom</c>).
/// </summary>
public sealed class VmCdromEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private async Task<ImageResponse> UploadIsoAsync(HttpClient client, string fileName, byte[]? bytes = null, string kind = "iso")
    {
        var response = await PostImageAsync(client, fileName, bytes ?? IsoImages.Make("INSTALLER"), kind);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(_ct));
        return (await response.ReadAsync<ImageResponse>())!;
    }

    private Task<HttpResponseMessage> PostImageAsync(HttpClient client, string fileName, byte[] bytes, string kind)
    {
        var form = new MultipartFormDataContent { { new StringContent(kind), "kind" } };
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        form.Add(file, "file", fileName);
        return client.PostAsync("/api/v1/images", form, _ct);
    }

    private async Task<VmResponse> CreateAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", body, ApiJson.Options, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(_ct));
        return (await response.ReadAsync<VmResponse>())!;
    }

    [Fact]
    public async Task An_iso_upload_records_its_volume_label_and_a_file_that_is_not_iso_9660_is_refused()
    {
        using var client = factory.CreateClient();

        var iso = await UploadIsoAsync(client, "cd-debian.iso");

        (iso.Kind.ToString(), iso.VolumeLabel).Should().Be(("Iso", "INSTALLER"));
        (await client.GetFromJsonAsync<ImageResponse>($"/api/v1/images/{iso.Id}", ApiJson.Options, _ct))!.VolumeLabel.Should().Be("INSTALLER");

        var notIso = await PostImageAsync(client, "cd-fake.iso", new byte[40_000], "iso");
        notIso.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        string reason = (await notIso.ReadJsonAsync()).GetProperty("errors").GetProperty("file")[0].GetString()!;
        reason.Should().Contain("cd-fake.iso").And.Contain("not an ISO 9660 image").And.Contain("CD001").And.NotContain(".upload-");
        Directory.GetFiles(Path.Combine(factory.DataDirectory, "images")).Should().NotContain(f => f.EndsWith("cd-fake.iso", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_firmware_vm_keeps_its_drive_disc_and_boot_order_and_its_iso_cannot_be_deleted()
    {
        using var client = factory.CreateClient();
        var iso = await UploadIsoAsync(client, "cd-keep.iso");

        var vm = await CreateAsync(client, new
        {
            name = "cd-firmware", bootMode = "Firmware", cdrom = new { imageId = iso.Id }, bootOrder = new[] { "Cdrom", "Disk" },
            disks = new[] { new { blank = new { sizeBytes = 1 << 20 } } }, commandLine = "ignored with firmware",
        });

        vm.BootMode.ToString().Should().Be("Firmware");
        vm.Cdrom.Should().Be(new VmCdromResponse(iso.Id, "cd-keep.iso", "INSTALLER"));
        vm.BootOrder.Should().Equal(BootDevice.Cdrom, BootDevice.Disk);
        vm.CommandLine.Should().BeNull("the boot loader on the disc gives the kernel its command line");
        var read = (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!;
        (read.Cdrom, read.BootOrder).Should().BeEquivalentTo((vm.Cdrom, vm.BootOrder));

        (await client.GetFromJsonAsync<ImageResponse>($"/api/v1/images/{iso.Id}", ApiJson.Options, _ct))!.UsedBy.Should().Equal("cd-firmware");
        var delete = await client.DeleteAsync($"/api/v1/images/{iso.Id}", _ct);
        delete.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await delete.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("cd-firmware");
    }

    [Fact]
    public async Task A_drive_disc_that_is_no_iso_a_boot_order_naming_a_missing_device_and_nothing_to_boot_are_refused()
    {
        using var client = factory.CreateClient();
        var disk = (await (await PostImageAsync(client, "cd-a-disk.img", new byte[4096], "disk")).ReadAsync<ImageResponse>())!;

        async Task<Dictionary<string, string[]>> ErrorsOf(object body)
        {
            var response = await client.PostAsJsonAsync("/api/v1/vms", body, ApiJson.Options, _ct);
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync(_ct));
            return (await response.ReadJsonAsync()).GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
        }

        (await ErrorsOf(new { name = "cd-bad-1", bootMode = "Firmware", cdrom = new { imageId = disk.Id } }))["cdrom.imageId"][0]
            .Should().Contain("cd-a-disk.img is a disk image, not an ISO image");
        (await ErrorsOf(new { name = "cd-bad-2", bootMode = "Firmware", bootOrder = new[] { "Cdrom" }, disks = new[] { new { blank = new { sizeBytes = 1 << 20 } } } }))["bootOrder"][0]
            .Should().Contain("no CD-ROM drive");
        (await ErrorsOf(new { name = "cd-bad-3", bootMode = "Firmware" }))["disks"][0].Should().Contain("The BIOS boots a disk or a CD");
        (await ErrorsOf(new { name = "cd-bad-4", bootMode = "Firmware", cdrom = new { }, bootOrder = new[] { "Cdrom", "Cdrom" } }))["bootOrder"][0]
            .Should().Contain("cdrom twice");
    }

    [Fact]
    public async Task On_a_stopped_vm_insert_and_eject_change_the_definition_and_a_vm_without_a_drive_says_so()
    {
        using var client = factory.CreateClient();
        var iso = await UploadIsoAsync(client, "cd-stopped.iso");
        var vm = await CreateAsync(client, new { name = "cd-stopped", bootMode = "Firmware", cdrom = new { } });
        var bare = await CreateAsync(client, new { name = "cd-nodrive", kernelPath = "/boot/vmlinuz" });

        var inserted = await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cdrom/medium", new { imageId = iso.Id }, ApiJson.Options, _ct);

        inserted.StatusCode.Should().Be(HttpStatusCode.OK, await inserted.Content.ReadAsStringAsync(_ct));
        var status = (await inserted.ReadAsync<VmCdromStatusResponse>())!;
        (status.Present, status.ImageId, status.ImageFileName, status.Running).Should().Be((true, (Guid?)iso.Id, (string?)"cd-stopped.iso", false));
        (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Cdrom!.ImageId.Should().Be(iso.Id);

        var ejected = await client.DeleteAsync($"/api/v1/vms/{vm.Id}/cdrom/medium", _ct);
        ejected.StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetFromJsonAsync<VmCdromStatusResponse>($"/api/v1/vms/{vm.Id}/cdrom", ApiJson.Options, _ct))!.ImageId.Should().BeNull();

        var noDrive = await client.PutAsJsonAsync($"/api/v1/vms/{bare.Id}/cdrom/medium", new { imageId = iso.Id }, ApiJson.Options, _ct);
        noDrive.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await noDrive.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("has no CD-ROM drive");
        var notAnIso = await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cdrom/medium", new { imageId = Guid.NewGuid() }, ApiJson.Options, _ct);
        notAnIso.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task On_a_running_vm_the_vmm_changes_the_disc_first_and_a_locked_tray_refuses_an_eject_until_forced()
    {
        var drive = new FakeRunningCdrom();
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IRunningCdrom>(drive)));
        using var client = app.CreateClient();
        var iso = await UploadIsoAsync(client, "cd-live.iso");
        var vm = await CreateAsync(client, new { name = "cd-live", bootMode = "Firmware", cdrom = new { } });
        factory.Runtime.SetState(vm.Id, VmPowerState.Running);
        drive.SetDrive(vm.Id, null);
        string path = Path.Combine(factory.DataDirectory, "images", "cd-live.iso");

        var inserted = await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cdrom/medium", new { imageId = iso.Id }, ApiJson.Options, _ct);

        inserted.StatusCode.Should().Be(HttpStatusCode.OK, await inserted.Content.ReadAsStringAsync(_ct));
        drive.Calls.Should().Equal($"insert {vm.Id} {path}");
        var status = (await inserted.ReadAsync<VmCdromStatusResponse>())!;
        (status.Running, status.MediumImageId, status.MediumFileName, status.ImageId).Should().Be((true, (Guid?)iso.Id, (string?)"cd-live.iso", (Guid?)iso.Id));

        drive.SetDrive(vm.Id, path, locked: true);
        var refused = await client.DeleteAsync($"/api/v1/vms/{vm.Id}/cdrom/medium", _ct);
        refused.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await refused.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("locked the drive").And.Contain("force");
        var kept = (await client.GetFromJsonAsync<VmCdromStatusResponse>($"/api/v1/vms/{vm.Id}/cdrom", ApiJson.Options, _ct))!;
        (kept.ImageId, kept.MediumImageId, kept.Locked).Should().Be(((Guid?)iso.Id, (Guid?)iso.Id, true), "a refused eject changes nothing");

        var forced = await client.DeleteAsync($"/api/v1/vms/{vm.Id}/cdrom/medium?force=true", _ct);
        forced.StatusCode.Should().Be(HttpStatusCode.OK);
        var empty = (await forced.ReadAsync<VmCdromStatusResponse>())!;
        (empty.ImageId, empty.MediumImageId, empty.OtherMedium).Should().Be(((Guid?)null, (Guid?)null, false));
        drive.Calls.Should().EndWith($"eject {vm.Id} force=True");
        factory.Runtime.SetState(vm.Id, VmPowerState.Stopped);
    }

    [Fact]
    public async Task A_disc_the_vmm_refuses_leaves_the_definition_as_it_was()
    {
        var drive = new FakeRunningCdrom { RefuseInsert = "The VMM did not take the disc: the file is gone" };
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IRunningCdrom>(drive)));
        using var client = app.CreateClient();
        var iso = await UploadIsoAsync(client, "cd-refused.iso");
        var vm = await CreateAsync(client, new { name = "cd-refused", bootMode = "Firmware", cdrom = new { } });
        factory.Runtime.SetState(vm.Id, VmPowerState.Running);

        var response = await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cdrom/medium", new { imageId = iso.Id }, ApiJson.Options, _ct);

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await response.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("the file is gone");
        (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, _ct))!.Cdrom!.ImageId.Should().BeNull();
        factory.Runtime.SetState(vm.Id, VmPowerState.Stopped);
    }
}
