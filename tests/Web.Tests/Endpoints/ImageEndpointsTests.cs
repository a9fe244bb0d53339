using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Platform.Web.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

public sealed class ImageEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private Task<HttpResponseMessage> UploadAsync(HttpClient client, string fileName, byte[] bytes, string? kind = "disk", string? sha256 = null)
    {
        var form = new MultipartFormDataContent();
        if (kind is not null)
        {
            form.Add(new StringContent(kind), "kind");
        }

        if (sha256 is not null)
        {
            form.Add(new StringContent(sha256), "sha256");
        }

        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        form.Add(file, "file", fileName);
        return client.PostAsync("/api/v1/images", form, _ct);
    }

    [Fact]
    public async Task Upload_stores_the_image_with_its_checksum_and_lists_it()
    {
        using var client = factory.CreateClient();
        byte[] bytes = RandomNumberGenerator.GetBytes(1 << 20);
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));

        var response = await UploadAsync(client, "api-root.img", bytes, sha256: sha);

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(_ct));
        var image = (await response.ReadAsync<ImageResponse>())!;
        (image.FileName, image.SizeBytes, image.Sha256, image.Kind.ToString()).Should().Be(("api-root.img", bytes.Length, sha, "Disk"));
        (await File.ReadAllBytesAsync(Path.Combine(factory.DataDirectory, "images", "api-root.img"), _ct)).Should().Equal(bytes);
        (await client.GetFromJsonAsync<List<ImageResponse>>("/api/v1/images", ApiJson.Options, _ct))!.Should().Contain(i => i.Id == image.Id);
    }

    [Fact]
    public async Task A_wrong_checksum_a_missing_kind_and_a_non_multipart_body_are_refused()
    {
        using var client = factory.CreateClient();
        var wrong = await UploadAsync(client, "api-wrong.img", [1, 2, 3], sha256: new string('a', 64));
        wrong.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await wrong.ReadJsonAsync()).GetProperty("errors").GetProperty("sha256")[0].GetString().Should().Contain("changed on the way");
        File.Exists(Path.Combine(factory.DataDirectory, "images", "api-wrong.img")).Should().BeFalse();

        var noKind = await UploadAsync(client, "api-nokind.img", [1], kind: null);
        (await noKind.ReadJsonAsync()).GetProperty("errors").TryGetProperty("kind", out _).Should().BeTrue();

        using var raw = new ByteArrayContent([1, 2]);
        raw.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        (await client.PostAsync("/api/v1/images", raw, _ct)).StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task An_image_past_the_size_limit_is_413_and_leaves_nothing_behind()
    {
        using var client = factory.CreateClient();
        var response = await UploadAsync(client, "api-big.img", new byte[PlatformAppFactory.MaxImageSizeBytes + 1]);
        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await response.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("4 MiB");
        Directory.GetFiles(Path.Combine(factory.DataDirectory, "images")).Should().NotContain(f => f.Contains("api-big", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith(".upload", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_image_in_use_cannot_be_deleted_until_the_vm_lets_go()
    {
        using var client = factory.CreateClient();
        var image = (await (await UploadAsync(client, "api-used.img", [9, 9, 9])).ReadAsync<ImageResponse>())!;
        (await UploadAsync(client, "API-USED.img", [1])).StatusCode.Should().Be(HttpStatusCode.Conflict, "names ignore case");
        var vmResponse = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "image-user",
            kernelPath = "/boot/vmlinuz",
            disks = new[] { new { imageId = image.Id } },
        }, ApiJson.Options, _ct);
        var vm = (await vmResponse.ReadAsync<VmResponse>())!;
        vm.Disks.Single().ImageFileName.Should().Be("api-used.img");

        var refused = await client.DeleteAsync($"/api/v1/images/{image.Id}", _ct);
        refused.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await refused.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("image-user");

        (await client.DeleteAsync($"/api/v1/vms/{vm.Id}", _ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await client.DeleteAsync($"/api/v1/images/{image.Id}", _ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        File.Exists(Path.Combine(factory.DataDirectory, "images", "api-used.img")).Should().BeFalse();
        (await client.GetAsync($"/api/v1/images/{image.Id}", _ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
