using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

/// <summary>
/// The task log over real HTTP: each long or failing action the API offers leaves a task with who, what, when, how it
/// ended and its lines; <c>/api/v1/tasks</c> lists and filters them, and shows only what the caller may see.
/// </summary>
public sealed class TaskEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private const long MiB = 1L << 20;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private async Task<VmResponse> CreateVmAsync(HttpClient client, string name, params object[] disks)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz", disks }, ApiJson.Options, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(_ct));
        return (await response.ReadAsync<VmResponse>())!;
    }

    private async Task<TaskPageResponse> ListAsync(HttpClient client, string query)
    {
        var response = await client.GetAsync($"/api/v1/tasks{query}", _ct);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(_ct));
        return (await response.ReadAsync<TaskPageResponse>())!;
    }

    private async Task<TaskResponse> GetAsync(HttpClient client, long id)
    {
        var response = await client.GetAsync($"/api/v1/tasks/{id}", _ct);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(_ct));
        return (await response.ReadAsync<TaskResponse>())!;
    }

    /// <summary>The VM's newest task of <paramref name="action"/>, whole (with its lines).</summary>
    private async Task<TaskResponse> NewestAsync(HttpClient client, Guid? vmId, string action)
    {
        var page = await ListAsync(client, vmId is { } id ? $"?vmId={id}&take=500" : "?take=500");
        var task = page.Items.FirstOrDefault(t => t.Action == action && t.VmId == vmId);
        task.Should().NotBeNull($"a {action} task should be listed (got {string.Join(", ", page.Items.Select(t => t.Action))})");
        return await GetAsync(client, task!.Id);
    }

    private Task<HttpResponseMessage> UploadAsync(HttpClient client, string fileName, byte[] bytes, string? sha256 = null)
    {
        var form = new MultipartFormDataContent { { new StringContent("disk"), "kind" } };
        if (sha256 is not null)
        {
            form.Add(new StringContent(sha256), "sha256");
        }

        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        form.Add(file, "file", fileName);
        return client.PostAsync("/api/v1/images", form, _ct);
    }

    [Theory]
    [InlineData("start", "vm.start")]
    [InlineData("shutdown", "vm.shutdown")]
    [InlineData("stop", "vm.stop")]
    [InlineData("reset", "vm.reset")]
    [InlineData("pause", "vm.pause")]
    [InlineData("resume", "vm.resume")]
    public async Task Each_power_action_is_a_task_with_who_what_when_and_its_lines(string verb, string action)
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, $"task-{verb}");
        var before = DateTimeOffset.UtcNow;

        (await client.PostAsync($"/api/v1/vms/{vm.Id}/{verb}", null, _ct)).StatusCode.Should().Be(HttpStatusCode.OK);

        var task = await NewestAsync(client, vm.Id, action);
        task.Status.Should().Be(TaskEntryStatus.Ok);
        task.VmName.Should().Be($"task-{verb}");
        task.UserName.Should().StartWith(TestAccounts.AdminName + " (token ", "the API token's user asked for it");
        task.StartedAt.Should().BeOnOrAfter(before.AddSeconds(-1));
        task.EndedAt.Should().NotBeNull().And.BeOnOrAfter(task.StartedAt);
        task.Lines.Should().NotBeNull();
        task.Lines![0].Text.Should().Contain($"task-{verb}");
        task.Lines![^1].Text.Should().StartWith("OK: ");
    }

    [Fact]
    public async Task A_failed_start_is_a_failed_task_whose_log_says_why_with_the_vmms_own_lines()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "task-bad-start");
        factory.Runtime.NextFailure = new VmRuntimeException("The VMM exited at start (code 1): platform-vmm: /boot/vmlinuz is too short to be a kernel")
        {
            VmmLog = ["platform-vmm 1.0 starting", "platform-vmm: /boot/vmlinuz is too short to be a kernel"],
        };

        (await client.PostAsync($"/api/v1/vms/{vm.Id}/start", null, _ct)).StatusCode.Should().Be(HttpStatusCode.Conflict);

        var task = await NewestAsync(client, vm.Id, "vm.start");
        task.Status.Should().Be(TaskEntryStatus.Failed);
        task.Result.Should().Contain("exited at start (code 1)").And.Contain("too short to be a kernel");
        task.Lines!.Select(l => l.Text).Should().Contain("vmm.log: platform-vmm: /boot/vmlinuz is too short to be a kernel")
            .And.Contain(l => l.StartsWith("FAILED: The VMM exited at start", StringComparison.Ordinal));
        (await ListAsync(client, $"?vmId={vm.Id}&status=Failed")).Items.Should().ContainSingle().Which.Id.Should().Be(task.Id);
        (await ListAsync(client, $"?vmId={vm.Id}&status=Ok")).Items.Should().NotContain(t => t.Id == task.Id);
    }

    [Fact]
    public async Task Disk_creation_and_growth_are_tasks_and_a_refused_shrink_is_a_failed_one()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "task-disks");

        (await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks", new { sizeBytes = 16 * MiB }, ApiJson.Options, _ct)).StatusCode.Should().Be(HttpStatusCode.Created);
        var created = await NewestAsync(client, vm.Id, "disk.create");
        created.Status.Should().Be(TaskEntryStatus.Ok);
        created.Target.Should().Be("disk 0");
        created.Lines!.Select(l => l.Text).Should().Contain(l => l.Contains("16 MiB", StringComparison.Ordinal));

        (await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/0/resize", new { sizeBytes = 32 * MiB }, ApiJson.Options, _ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        var grown = await NewestAsync(client, vm.Id, "disk.resize");
        (grown.Status, grown.Target).Should().Be((TaskEntryStatus.Ok, "disk 0"));
        grown.Lines!.Select(l => l.Text).Should().Contain(l => l.Contains("growing the file", StringComparison.Ordinal));

        (await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/disks/0/resize", new { sizeBytes = 8 * MiB }, ApiJson.Options, _ct)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var shrink = await NewestAsync(client, vm.Id, "disk.resize");
        shrink.Id.Should().NotBe(grown.Id);
        shrink.Status.Should().Be(TaskEntryStatus.Failed);
        shrink.Result.Should().Contain("disks only grow");
    }

    [Fact]
    public async Task Snapshots_taken_reverted_and_deleted_are_tasks()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "task-snapshots", new { blank = new { sizeBytes = 8 * MiB } });

        (await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/snapshots", new { name = "first" }, ApiJson.Options, _ct)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostAsync($"/api/v1/vms/{vm.Id}/snapshots/first/revert", null, _ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await client.DeleteAsync($"/api/v1/vms/{vm.Id}/snapshots/first", _ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await client.DeleteAsync($"/api/v1/vms/{vm.Id}/snapshots/first", _ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);

        foreach (string action in new[] { "snapshot.create", "snapshot.revert" })
        {
            var task = await NewestAsync(client, vm.Id, action);
            (task.Status, task.Target).Should().Be((TaskEntryStatus.Ok, "snapshot first"), action);
        }

        var deletes = (await ListAsync(client, $"?vmId={vm.Id}")).Items.Where(t => t.Action == "snapshot.delete").ToList();
        deletes.Select(t => t.Status).Should().Equal(TaskEntryStatus.Failed, TaskEntryStatus.Ok);
        deletes[0].Result.Should().Contain("no snapshot named first");
    }

    [Fact]
    public async Task An_upload_is_a_host_task_and_a_bad_checksum_fails_it_with_the_reason()
    {
        using var client = factory.CreateClient();
        byte[] bytes = new byte[MiB];
        bytes[0] = 1;

        (await UploadAsync(client, "task-upload.img", bytes)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await UploadAsync(client, "task-upload-bad.img", bytes, new string('0', 64))).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        var tasks = (await ListAsync(client, "?take=500")).Items.Where(t => t.Action == "image.upload").ToList();
        var good = tasks.Single(t => t.Target == "task-upload.img");
        (good.Status, good.VmId).Should().Be((TaskEntryStatus.Ok, (Guid?)null));
        (await GetAsync(client, good.Id)).Lines!.Select(l => l.Text).Should().Contain(l => l.StartsWith("Stored 1 MiB, SHA-256 ", StringComparison.Ordinal));
        var bad = tasks.Single(t => t.Target == "task-upload-bad.img");
        bad.Status.Should().Be(TaskEntryStatus.Failed);
        bad.Result.Should().Contain("sha256: The upload's SHA-256 is");
    }

    [Fact]
    public async Task A_linked_clone_made_for_a_snapshot_is_a_task_of_its_own()
    {
        using var client = factory.CreateClient();
        var upload = await UploadAsync(client, "task-clone-base.img", new byte[MiB]);
        upload.StatusCode.Should().Be(HttpStatusCode.Created);
        var image = (await upload.ReadAsync<ImageResponse>())!;
        var vm = await CreateVmAsync(client, "task-clone", new { imageId = image.Id, linkedClone = true });

        (await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/snapshots", new { name = "s" }, ApiJson.Options, _ct)).StatusCode.Should().Be(HttpStatusCode.Created);

        var clone = await NewestAsync(client, vm.Id, "disk.linked-clone");
        (clone.Status, clone.Target).Should().Be((TaskEntryStatus.Ok, "disk 0 from task-clone-base.img"));
    }

    [Fact]
    public async Task Since_and_paging_filter_and_bad_paging_is_refused()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "task-since");
        await client.PostAsync($"/api/v1/vms/{vm.Id}/start", null, _ct);
        string future = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("O"));
        string past = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(-5).ToString("O"));

        (await ListAsync(client, $"?vmId={vm.Id}&since={future}")).Items.Should().BeEmpty();
        (await ListAsync(client, $"?vmId={vm.Id}&since={past}")).Items.Should().ContainSingle(t => t.Action == "vm.start");
        (await client.GetAsync("/api/v1/tasks?take=0", _ct)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await client.GetAsync("/api/v1/tasks/999999999", _ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_user_sees_only_the_tasks_of_vms_they_may_see_and_no_host_tasks()
    {
        using var admin = factory.CreateClient();
        var mine = await CreateVmAsync(admin, "task-visible");
        var hidden = await CreateVmAsync(admin, "task-hidden");
        (await admin.PostAsync($"/api/v1/vms/{mine.Id}/start", null, _ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await admin.PostAsync($"/api/v1/vms/{hidden.Id}/start", null, _ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await UploadAsync(admin, "task-hidden-upload.img", new byte[MiB])).StatusCode.Should().Be(HttpStatusCode.Created);
        var hiddenTask = await NewestAsync(admin, hidden.Id, "vm.start");
        var hostTask = (await ListAsync(admin, "?take=500")).Items.First(t => t.Target == "task-hidden-upload.img");
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "task-vmuser", (BuiltInRoles.VmUserId, mine.Id));
        using var user = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId));

        var listed = await ListAsync(user, "?take=500");

        listed.Items.Should().NotBeEmpty().And.OnlyContain(t => t.VmId == mine.Id, "only the VM granted to the user, and no host tasks");
        listed.Total.Should().Be(listed.Items.Count);
        (await user.GetAsync($"/api/v1/tasks/{hiddenTask.Id}", _ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await user.GetAsync($"/api/v1/tasks/{hostTask.Id}", _ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await user.GetAsync($"/api/v1/tasks?vmId={hidden.Id}", _ct)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await GetAsync(user, listed.Items[0].Id)).VmId.Should().Be(mine.Id);
        (await factory.CreateClient().WithToken("not-a-token").GetAsync("/api/v1/tasks", _ct)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        // Sys.Audit (the Auditor role on /) shows the host's tasks too.
        string auditorId = await TestAccounts.CreateUserAsync(factory.Services, "task-auditor", (BuiltInRoles.AuditorId, null));
        using var auditor = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, auditorId));
        (await GetAsync(auditor, hostTask.Id)).Target.Should().Be("task-hidden-upload.img");
    }
}
