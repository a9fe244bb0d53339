using System.Security.Cryptography;
using Bunit;
using Microsoft.AspNetCore.Components.Forms;
using Platform.Web.Components.Images;
using Platform.Web.Data;

namespace Platform.Web.Tests.Components.Images;

public sealed class ImageUploadTests : DashboardTestContext
{
    [Fact]
    public async Task Uploading_a_file_stores_it_in_the_library_with_its_checksum_and_tells_the_page()
    {
        byte[] bytes = RandomNumberGenerator.GetBytes(300_000);
        ImageFile? uploaded = null;
        var upload = Render<ImageUpload>(p => p.Add(u => u.Uploaded, (ImageFile image) => uploaded = image));
        upload.Find("[data-testid=upload-start]").HasAttribute("disabled").Should().BeTrue("nothing is chosen yet");

        upload.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary(bytes, "vmlinuz-6.1", contentType: "application/octet-stream"));
        upload.WaitForAssertion(() => upload.Find("[data-testid=upload-file]").TextContent.Should().Contain("vmlinuz-6.1"));
        await upload.Find("[data-testid=upload-start]").ClickAsync(new());

        upload.WaitForAssertion(() => uploaded.Should().NotBeNull());
        uploaded!.Kind.Should().Be(ImageKind.Kernel, "a file named vmlinuz* is taken for a kernel");
        uploaded.Sha256.Should().Be(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        (await File.ReadAllBytesAsync(Db.Images.PathOf(uploaded), Ct)).Should().Equal(bytes);
        Snackbars.Should().Contain(s => s!.StartsWith("Uploaded vmlinuz-6.1", StringComparison.Ordinal));
        upload.FindAll("[data-testid=upload-error]").Should().BeEmpty();
        upload.FindAll("[data-testid=upload-file]").Should().BeEmpty("the chooser is cleared for the next file");
    }

    [Fact]
    public async Task A_file_past_the_limit_is_refused_with_the_reason_and_nothing_is_stored()
    {
        Db.Options.MaxImageSizeBytes = 1000;
        var upload = Render<ImageUpload>();
        upload.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary(new byte[1001], "big.img"));
        await upload.Find("[data-testid=upload-start]").ClickAsync(new());

        upload.WaitForAssertion(() => upload.Find("[data-testid=upload-error]").TextContent.Should().Contain("up to 1000 bytes"));
        (await Db.Images.ListAsync(Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_name_already_in_the_library_is_refused_with_the_reason()
    {
        using (var existing = new MemoryStream([1]))
        {
            (await Db.Images.UploadAsync(ImageKind.Disk, "root.img", existing, null, null, Ct)).Succeeded.Should().BeTrue();
        }

        var upload = Render<ImageUpload>();
        upload.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary([2, 3], "root.img"));
        await upload.Find("[data-testid=upload-start]").ClickAsync(new());

        upload.WaitForAssertion(() => upload.Find("[data-testid=upload-error]").TextContent.Should().Contain("already has an image named root.img"));
    }
}
