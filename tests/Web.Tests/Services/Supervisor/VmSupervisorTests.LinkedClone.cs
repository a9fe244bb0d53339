using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Platform.Devices.Virtio.Block;
using Platform.Web.Data;
using Platform.Web.Services.Images;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Tests.Services.Supervisor;

// A linked clone with a real VMM: the guest writes its disk, the writes land in the VM's own qcow2 overlay, and the
// library image it was cloned from is untouched.
public sealed partial class VmSupervisorTests
{
    [Fact]
    public async Task A_linked_clone_writes_into_its_own_overlay_and_the_library_image_stays_as_it_was()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        byte[] template = RandomNumberGenerator.GetBytes(4 << 20);
        ImageFile image;
        using (var content = new MemoryStream(template))
        {
            image = (await app.Services.GetRequiredService<ImageLibrary>().UploadAsync(ImageKind.Disk, "template.img", content, null, null, Token)).Value!;
        }

        var vm = await CreateAsync(client, "clone", "blk", new
        {
            // end=halt: the guest stays up after its verdict, so its serial socket is there to read (a guest that
            // ended at once could be gone before the test connects).
            commandLine = "sector=8 count=16 writes=4 seed=0x51 end=halt",
            onReboot = "Exit",
            displayEnabled = false,
            disks = new[] { new { imageId = image.Id, linkedClone = true } },
        });
        vm.Disks.Single().LinkedClone.Should().BeTrue();

        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        await ReadSerialUntilAsync(app.Services.GetRequiredService<IVmRuntimeInfo>(), vm.Id, "PLATFORM-TEST blk PASS");
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);

        string overlay = Directory.GetFiles(Path.Combine(app.DataDirectory, "disks", vm.Id.ToString("N")), "*.qcow2").Single();
        using (var disk = DiskImages.Open(new DiskOptions(overlay, ReadOnly: true, Format: DiskImageFormat.Qcow2)))
        {
            byte[] sectors = new byte[(8 + 64 + 8) * 512];
            disk.Read(0, sectors).Should().BeTrue(disk.LastError);
            for (int s = 8; s < 8 + 64; s++)
            {
                BinaryPrimitives.ReadUInt64LittleEndian(sectors.AsSpan(s * 512)).Should().Be((0x51UL << 48) | ((ulong)s << 8), $"sector {s}");
            }

            sectors.AsSpan(0, 8 * 512).SequenceEqual(template.AsSpan(0, 8 * 512)).Should().BeTrue("unwritten sectors show the template");
            sectors.AsSpan(72 * 512).SequenceEqual(template.AsSpan(72 * 512, 8 * 512)).Should().BeTrue();
        }

        (await File.ReadAllBytesAsync(Path.Combine(app.DataDirectory, "images", "template.img"), Token)).Should().Equal(template, "the library image is never written");
        using var check = Process.Start(new ProcessStartInfo("qemu-img", ["check", "-q", overlay]) { RedirectStandardError = true })!;
        await check.WaitForExitAsync(Token);
        check.ExitCode.Should().Be(0, await check.StandardError.ReadToEndAsync(Token));
    }
}
