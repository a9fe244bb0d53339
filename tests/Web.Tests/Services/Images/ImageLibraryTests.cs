using System.Security.Cryptography;
using Platform.Web.Data;
using Platform.Web.Services;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.Images;

public sealed class ImageLibraryTests : IDisposable
{
    private readonly TestDatabase _db = new();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task Upload_stores_the_file_under_images_with_size_and_sha256_and_reports_progress()
    {
        byte[] bytes = RandomNumberGenerator.GetBytes(3 << 20);
        var reported = new List<long>();
        using var content = new MemoryStream(bytes);

        var result = await _db.Images.UploadAsync(ImageKind.Disk, "root.img", content, null, new SyncProgress(reported.Add), _ct);

        result.Succeeded.Should().BeTrue(result.Message);
        var image = result.Value!;
        string path = Path.Combine(_db.DataDirectory, "images", "root.img");
        _db.Images.PathOf(image).Should().Be(path);
        (await File.ReadAllBytesAsync(path, _ct)).Should().Equal(bytes);
        image.SizeBytes.Should().Be(bytes.Length);
        image.Sha256.Should().Be(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        reported.Should().BeInAscendingOrder().And.HaveCountGreaterThan(1);
        reported[^1].Should().Be(bytes.Length);
        Directory.GetFiles(Path.GetDirectoryName(path)!).Should().ContainSingle("no temporary file is left");
        (await _db.Images.ListAsync(_ct)).Single().Image.Sha256.Should().Be(image.Sha256);
    }

    [Fact]
    public async Task A_sparse_image_stays_sparse_and_reads_back_the_same()
    {
        // 32 MiB, mostly zeros: data at 1 MiB, at 20 MiB, and zeros up to the end (a hole at the end must keep the size).
        byte[] bytes = new byte[32 << 20];
        RandomNumberGenerator.Fill(bytes.AsSpan(1 << 20, 8192));
        RandomNumberGenerator.Fill(bytes.AsSpan(20 << 20, 100));
        using var content = new MemoryStream(bytes);

        var result = await _db.Images.UploadAsync(ImageKind.Disk, "sparse.img", content, null, null, _ct);

        result.Succeeded.Should().BeTrue(result.Message);
        string path = _db.Images.PathOf(result.Value!);
        new FileInfo(path).Length.Should().Be(bytes.Length);
        (await File.ReadAllBytesAsync(path, _ct)).AsSpan().SequenceEqual(bytes).Should().BeTrue("holes read back as zeros");
        result.Value!.Sha256.Should().Be(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        AllocatedBytes(path).Should().BeLessThan(1 << 20, "only the data blocks take room on the host, not 32 MiB");
    }

    [Fact]
    public async Task An_upload_without_room_on_the_host_disk_is_refused_with_the_reason_and_leaves_nothing()
    {
        _db.Options.MinFreeBytes = long.MaxValue / 2;
        using var content = new MemoryStream(new byte[4096]);

        var result = await _db.Images.UploadAsync(ImageKind.Disk, "no-room.img", content, null, null, _ct);

        result.Status.Should().Be(ServiceStatus.NoSpace);
        result.Message.Should().Contain("Not enough free space").And.Contain(_db.Options.ImagesDirectory).And.Contain("must stay free");
        Directory.GetFiles(_db.Options.ImagesDirectory).Should().BeEmpty();
        content.Position.Should().Be(0, "nothing was read: the check comes first");
    }

    /// <summary>The bytes the file takes on disk (st_blocks × 512), from stat(1).</summary>
    private static long AllocatedBytes(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%b", path]) { RedirectStandardOutput = true })!;
        string blocks = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return long.Parse(blocks, System.Globalization.CultureInfo.InvariantCulture) * 512;
    }

    [Fact]
    public async Task A_given_checksum_must_match()
    {
        using var content = new MemoryStream([1, 2, 3]);
        var result = await _db.Images.UploadAsync(ImageKind.Kernel, "vmlinuz", content, new string('0', 64), null, _ct);
        result.Status.Should().Be(ServiceStatus.Invalid);
        result.Errors["sha256"].Single().Should().Contain("not 0000");
        Directory.GetFiles(_db.Options.ImagesDirectory).Should().BeEmpty();

        content.Position = 0;
        string right = Convert.ToHexString(SHA256.HashData(new byte[] { 1, 2, 3 }));
        (await _db.Images.UploadAsync(ImageKind.Kernel, "vmlinuz", content, right, null, _ct)).Succeeded.Should().BeTrue("upper-case hex is fine");
    }

    [Fact]
    public async Task An_upload_past_the_limit_is_refused_and_leaves_nothing()
    {
        _db.Options.MaxImageSizeBytes = 1000;
        using var content = new MemoryStream(new byte[1001]);
        var result = await _db.Images.UploadAsync(ImageKind.Disk, "big.img", content, null, null, _ct);
        result.Status.Should().Be(ServiceStatus.TooLarge);
        result.Message.Should().Contain("1000 bytes");
        Directory.GetFiles(_db.Options.ImagesDirectory).Should().BeEmpty();
        (await _db.Images.ListAsync(_ct)).Should().BeEmpty();
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData(".hidden")]
    [InlineData("a b.img")]
    [InlineData("")]
    public async Task File_names_that_are_paths_hidden_or_odd_are_refused(string name)
    {
        using var content = new MemoryStream([1]);
        var result = await _db.Images.UploadAsync(ImageKind.Disk, name, content, null, null, _ct);
        result.Errors.Should().ContainKey("fileName");
    }

    [Fact]
    public async Task Names_are_unique_without_regard_to_case_and_empty_files_are_refused()
    {
        using (var content = new MemoryStream([1]))
        {
            (await _db.Images.UploadAsync(ImageKind.Disk, "Disk.img", content, null, null, _ct)).Succeeded.Should().BeTrue();
        }

        using (var content = new MemoryStream([2]))
        {
            (await _db.Images.UploadAsync(ImageKind.Disk, "disk.IMG", content, null, null, _ct)).Status.Should().Be(ServiceStatus.Conflict);
        }

        using var empty = new MemoryStream();
        (await _db.Images.UploadAsync(ImageKind.Disk, "empty.img", empty, null, null, _ct)).Errors["file"].Single().Should().Contain("empty");
    }

    [Fact]
    public async Task An_image_a_vm_uses_cannot_be_deleted_and_an_unused_one_can()
    {
        using var content = new MemoryStream([1, 2]);
        var image = (await _db.Images.UploadAsync(ImageKind.Disk, "root.img", content, null, null, _ct)).Value!;
        var input = new VmDefinitionInput { Name = "web", KernelPath = "/boot/vmlinuz" };
        input.Disks.Add(new VmDiskInput { ImageId = image.Id });
        var vm = (await _db.Vms.CreateAsync(input, _ct)).Value!;

        (await _db.Images.FindAsync(image.Id, _ct))!.UsedBy.Should().Equal("web");
        var refused = await _db.Images.DeleteAsync(image.Id, _ct);
        refused.Status.Should().Be(ServiceStatus.Conflict);
        refused.Message.Should().Contain("used by web");
        File.Exists(_db.Images.PathOf(image)).Should().BeTrue();

        (await _db.Vms.DeleteAsync(vm.Id, null, keepDiskImages: true, _ct)).Succeeded.Should().BeTrue();
        (await _db.Images.DeleteAsync(image.Id, _ct)).Succeeded.Should().BeTrue();
        File.Exists(_db.Images.PathOf(image)).Should().BeFalse();
        (await _db.Images.DeleteAsync(image.Id, _ct)).Status.Should().Be(ServiceStatus.NotFound);
    }

    /// <summary>Progress&lt;T&gt; posts to a synchronization context; the test wants the reports in order, at once.</summary>
    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    [Fact]
    public async Task A_qcow2_disk_is_detected_with_its_virtual_size_and_a_raw_one_keeps_its_length()
    {
        string made = Path.Combine(_db.DataDirectory, "made.qcow2");
        Platform.Devices.Virtio.Block.Qcow2.Qcow2Creator.Create(made, 10L << 30);
        await using (var content = File.OpenRead(made))
        {
            var result = await _db.Images.UploadAsync(ImageKind.Disk, "cloud.qcow2", content, null, null, _ct);
            result.Succeeded.Should().BeTrue(result.Message);
            result.Value!.Format.Should().Be(ImageFormat.Qcow2);
            result.Value.VirtualSizeBytes.Should().Be(10L << 30);
            result.Value.SizeBytes.Should().BeLessThan(1 << 20, "an empty qcow2 image is a few clusters");
        }

        using var raw = new MemoryStream(new byte[4096]);
        var rawResult = await _db.Images.UploadAsync(ImageKind.Disk, "plain.img", raw, null, null, _ct);
        (rawResult.Value!.Format, rawResult.Value.VirtualSizeBytes).Should().Be((ImageFormat.Raw, 4096L));

        using var kernel = new MemoryStream([1, 2, 3]);
        (await _db.Images.UploadAsync(ImageKind.Kernel, "vmlinuz", kernel, null, null, _ct)).Value!.Format.Should().BeNull();
    }

    [Fact]
    public async Task A_qcow2_upload_that_names_a_backing_file_or_is_corrupt_is_refused_and_leaves_nothing()
    {
        string overlay = Path.Combine(_db.DataDirectory, "overlay.qcow2");
        Platform.Devices.Virtio.Block.Qcow2.Qcow2Creator.Create(overlay, 1 << 20, "/etc/shadow");
        await using (var content = File.OpenRead(overlay))
        {
            var result = await _db.Images.UploadAsync(ImageKind.Disk, "sneaky.qcow2", content, null, null, _ct);
            result.Status.Should().Be(ServiceStatus.Invalid);
            result.Errors["file"].Single().Should().Contain("sneaky.qcow2").And.Contain("backing file").And.NotContain(".upload-");
        }

        byte[] corrupt = File.ReadAllBytes(overlay);
        corrupt[20 + 3] = 30; // cluster_bits 30
        using (var content = new MemoryStream(corrupt))
        {
            var result = await _db.Images.UploadAsync(ImageKind.Disk, "broken.qcow2", content, null, null, _ct);
            result.Errors["file"].Single().Should().Contain("cluster_bits is 30");
        }

        Directory.GetFiles(_db.Options.ImagesDirectory).Should().BeEmpty();
    }

    [Fact]
    public async Task A_linked_clone_is_a_qcow2_overlay_over_the_library_image_made_once()
    {
        byte[] data = RandomNumberGenerator.GetBytes(1 << 20);
        using var content = new MemoryStream(data);
        var image = (await _db.Images.UploadAsync(ImageKind.Disk, "base.img", content, null, null, _ct)).Value!;
        var disk = new VmDisk { VirtualMachineId = Guid.NewGuid(), ImageId = image.Id, Image = image, LinkedClone = true };

        string overlay = _db.Images.EnsureLinkedClone(disk);

        overlay.Should().StartWith(_db.Options.DisksDirectory);
        var description = Platform.Devices.Virtio.Block.DiskImages.Describe(overlay);
        description.Format.Should().Be(Platform.Devices.Virtio.Block.DiskImageFormat.Qcow2);
        description.VirtualSize.Should().Be(1 << 20);
        description.BackingName.Should().Be(Path.Combine("..", "..", "images", "base.img"), "relative, so the data folder can move");
        description.Backing!.Path.Should().EndWith("base.img");
        File.SetLastWriteTimeUtc(overlay, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        _db.Images.EnsureLinkedClone(disk).Should().Be(overlay);
        File.GetLastWriteTimeUtc(overlay).Year.Should().Be(2020, "an existing overlay holds the VM's writes: it is never made again");

        _db.Images.DeleteLinkedClones(disk.VirtualMachineId);
        File.Exists(overlay).Should().BeFalse();
        File.Exists(_db.Images.PathOf(image)).Should().BeTrue();
    }
}
