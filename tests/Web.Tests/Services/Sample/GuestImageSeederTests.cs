using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Data;
using Platform.Web.Services.Sample;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.Sample;

/// <summary>The guest images guest-images.sh built become library entries on the first day, each once.</summary>
public sealed class GuestImageSeederTests : IDisposable
{
    private readonly TestDatabase _db = new();
    private readonly string _images = Directory.CreateTempSubdirectory("platform-guest-images-").FullName;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _db.Dispose();
        Directory.Delete(_images, recursive: true);
    }

    [Fact]
    public async Task The_kernel_initramfs_and_disk_become_library_images_of_their_kinds_once()
    {
        await File.WriteAllBytesAsync(Path.Combine(_images, "vmlinuz"), [1, 2, 3, 4], _ct);
        await File.WriteAllBytesAsync(Path.Combine(_images, "initramfs.cpio.gz"), [0x1f, 0x8b, 8, 0], _ct);
        await using (var disk = File.Create(Path.Combine(_images, "rootfs.ext4")))
        {
            disk.SetLength(4 << 20);
            disk.Position = 1024;
            disk.Write([0x53, 0xef]);
        }

        var added = await GuestImageSeeder.SeedAsync(_db.Images, _images, NullLogger.Instance, _ct);

        added.Should().Equal(["debian-vmlinuz", "debian-initramfs.cpio.gz", "debian-rootfs.ext4"]);
        var library = (await _db.Images.ListAsync(_ct)).Select(u => u.Image).ToDictionary(i => i.FileName);
        library["debian-vmlinuz"].Kind.Should().Be(ImageKind.Kernel);
        library["debian-initramfs.cpio.gz"].Kind.Should().Be(ImageKind.Initrd);
        (library["debian-rootfs.ext4"].Kind, library["debian-rootfs.ext4"].Format, library["debian-rootfs.ext4"].VirtualSizeBytes)
            .Should().Be((ImageKind.Disk, ImageFormat.Raw, 4L << 20));
        (await File.ReadAllBytesAsync(_db.Images.PathOf(library["debian-vmlinuz"]), _ct)).Should().Equal([1, 2, 3, 4]);

        (await GuestImageSeeder.SeedAsync(_db.Images, _images, NullLogger.Instance, _ct)).Should().BeEmpty("each is added once");
    }

    [Fact]
    public async Task Missing_images_are_skipped()
    {
        await File.WriteAllBytesAsync(Path.Combine(_images, "vmlinuz"), [9], _ct);

        (await GuestImageSeeder.SeedAsync(_db.Images, _images, NullLogger.Instance, _ct)).Should().Equal(["debian-vmlinuz"]);
    }
}
