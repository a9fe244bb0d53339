using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Data;
using Platform.Web.Services;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Vms;

/// <summary>
/// Clones and templates on real disk files, checked with qemu-img: a full copy with its progress, a cancel that leaves
/// nothing, linked clones of a template (overlays whose backing file is its disk), and what a template refuses.
/// </summary>
public sealed class VmCloneServiceTests : IDisposable
{
    private const long MiB = 1L << 20;
    private readonly TestDatabase _db = new();
    private readonly VmCloneService _clones;
    private readonly VmDiskService _disks;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public VmCloneServiceTests()
    {
        _disks = new VmDiskService(_db.Vms, _db.Runtime, _db.DiskFiles, _db.Images, new NoRunningResizer(), _db.Events, _db.Tasks);
        _clones = new VmCloneService(_db.Vms, _db.Runtime, _disks, _db.DiskFiles, _db.Images, _db.Events, _db.Options, NullLogger<VmCloneService>.Instance);
    }

    public void Dispose() => _db.Dispose();

    /// <summary>A VM with a 32 MiB qcow2 disk of its own holding two patterns, a NIC with a port forward, and cloud-init.</summary>
    private async Task<VirtualMachine> SourceAsync(string name)
    {
        var created = await _db.Vms.CreateAsync(new VmDefinitionInput
        {
            Name = name, KernelPath = "/boot/vmlinuz",
            Disks = [new VmDiskInput { Blank = new BlankDiskInput { SizeBytes = 32 * MiB } }],
            Nics = [new VmNicInput { NetworkId = Network.DefaultId, PortForwards = [new VmPortForward { Protocol = ForwardProtocol.Tcp, HostAddress = "127.0.0.1", HostPort = 40022, GuestPort = 22 }] }],
            CloudInit = new CloudInitInput { UserName = "alice", Password = "pw-alice", Hostname = "src-host" },
        }, _ct);
        created.Succeeded.Should().BeTrue(string.Join(" ", created.Errors.SelectMany(e => e.Value)) + created.Message);
        var vm = created.Value!;
        QemuTools.WritePattern(_db.DiskFiles.PathOf(vm.Disks[0]), 0, 0x5a);
        QemuTools.WritePattern(_db.DiskFiles.PathOf(vm.Disks[0]), 20 * MiB, 0xa5);
        return vm;
    }

    [Fact]
    public async Task Staging_folders_a_stopped_dashboard_left_are_removed_at_start_and_vms_disks_stay()
    {
        var vm = await SourceAsync("sweep-source");
        string ownDisk = _db.DiskFiles.PathOf(vm.Disks[0]);
        string left = Directory.CreateDirectory(Path.Combine(_db.Options.DisksDirectory, CloneStagingSweeper.Prefix + Guid.NewGuid().ToString("N"))).FullName;
        await File.WriteAllBytesAsync(Path.Combine(left, "0.qcow2"), new byte[4096], _ct);

        await new CloneStagingSweeper(_db.Options, NullLogger<CloneStagingSweeper>.Instance).StartAsync(_ct);

        Directory.Exists(left).Should().BeFalse("no clone runs before the dashboard has started");
        File.Exists(ownDisk).Should().BeTrue("a VM's own disk is no staging folder");
    }

    private static async Task<CloneJob> FinishedAsync(CloneJob job)
    {
        for (int i = 0; i < 600 && job.State == CloneJobState.Running; i++)
        {
            await Task.Delay(50);
        }

        return job;
    }

    [Fact]
    public async Task A_full_copy_reports_its_bytes_and_makes_a_vm_with_disks_of_its_own()
    {
        var source = await SourceAsync("src");
        var seen = new List<long>();

        var started = await _clones.StartAsync(source.Id, "copy", CloneMode.Full, "admin", _ct, job => seen.Add(job.CopiedBytes));

        started.Succeeded.Should().BeTrue(started.Message);
        var job = await FinishedAsync(started.Value!);
        (job.State, job.TotalBytes, job.CopiedBytes, job.Percent).Should().Be((CloneJobState.Succeeded, 32 * MiB, 32 * MiB, 100), job.Message);
        seen.Should().BeInAscendingOrder().And.Contain(16 * MiB, "progress came a chunk at a time");
        var copy = (await _db.Vms.FindAsync(job.NewVmId!.Value, _ct))!;
        copy.Name.Should().Be("copy");
        copy.TemplateId.Should().BeNull();
        string file = _db.DiskFiles.PathOf(copy.Disks.Single());
        file.Should().StartWith(Path.Combine(_db.DataDirectory, "disks", copy.Id.ToString("N")));
        QemuTools.Run("qemu-img", "compare", _db.DiskFiles.PathOf(source.Disks[0]), file).ExitCode.Should().Be(0);
        QemuTools.Run("qemu-img", "info", file).Output.Should().NotContain("backing file");
        copy.Nics.Single().MacAddress.Should().NotBe(source.Nics.Single().MacAddress, "a clone gets MACs of its own");
        copy.Nics.Single().PortForwards.Should().BeEmpty("the source's host ports stay the source's");
        (copy.CloudInit!.UserName, copy.CloudInit.PasswordHash, copy.CloudInit.Hostname).Should().Be(("alice", source.CloudInit!.PasswordHash, null));
        Directory.GetDirectories(Path.Combine(_db.DataDirectory, "disks")).Select(Path.GetFileName)
            .Should().BeEquivalentTo([source.Id.ToString("N"), copy.Id.ToString("N")], "the staging folder is gone");
        var events = (await _db.Events.ListAsync(source.Id, 0, 100, _ct)).Items;
        events.Should().Contain(e => e.Kind == VmEventKinds.Clone && e.Message.Contains("full copy of 1 disk (32 MiB)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_cancelled_copy_leaves_no_vm_and_no_file()
    {
        var source = await SourceAsync("src-cancel");
        CloneJob? running = null;

        var started = await _clones.StartAsync(source.Id, "never", CloneMode.Full, "admin", _ct, job =>
        {
            if (job.State == CloneJobState.Running && job.CopiedBytes >= 4 * MiB && running is null)
            {
                running = job;
                _clones.Cancel(source.Id, job.Id).Succeeded.Should().BeTrue();
            }
        });

        var job = await FinishedAsync(started.Value!);
        job.State.Should().Be(CloneJobState.Cancelled, job.Message);
        job.CopiedBytes.Should().BeLessThan(32 * MiB, "it stopped part-way");
        (await _db.Vms.ListAsync(_ct)).Select(v => v.Name).Should().Equal(["src-cancel"]);
        Directory.GetFileSystemEntries(Path.Combine(_db.DataDirectory, "disks")).Select(Path.GetFileName)
            .Should().Equal([source.Id.ToString("N")], "the half-made copy and its staging folder are gone");
        _clones.Cancel(source.Id, job.Id).Status.Should().Be(ServiceStatus.Conflict, "it has ended");
    }

    [Fact]
    public async Task Bad_requests_are_refused_before_anything_is_copied()
    {
        var source = await SourceAsync("src-bad");

        var badName = await _clones.StartAsync(source.Id, "has space", CloneMode.Full, null, _ct);
        badName.Status.Should().Be(ServiceStatus.Invalid);
        badName.Errors.Should().ContainKey("name");
        (await _clones.StartAsync(source.Id, "src-bad", CloneMode.Full, null, _ct)).Errors["name"][0].Should().Contain("already exists");
        (await _clones.StartAsync(source.Id, "linked", CloneMode.Linked, null, _ct)).Message.Should().Contain("not a template");
        _db.Runtime.SetState(source.Id, VmPowerState.Running);
        (await _clones.StartAsync(source.Id, "hot", CloneMode.Full, null, _ct)).Message.Should().Contain("is running; a VM is cloned while it is stopped");
        (await _clones.StartAsync(Guid.NewGuid(), "x", CloneMode.Full, null, _ct)).Status.Should().Be(ServiceStatus.NotFound);
        Directory.GetFileSystemEntries(Path.Combine(_db.DataDirectory, "disks")).Should().ContainSingle();
    }

    [Fact]
    public async Task A_template_gives_linked_clones_and_stays_as_it_is_while_they_exist()
    {
        var template = await SourceAsync("tmpl");
        (await _db.Vms.SetTemplateAsync(template.Id, true, _ct)).Value!.IsTemplate.Should().BeTrue();

        var started = await _clones.StartAsync(template.Id, "linked", CloneMode.Linked, "admin", _ct);

        var job = started.Value!;
        job.State.Should().Be(CloneJobState.Succeeded, job.Message);
        var clone = (await _db.Vms.FindAsync(job.NewVmId!.Value, _ct))!;
        clone.TemplateId.Should().Be(template.Id);
        string overlay = _db.DiskFiles.PathOf(clone.Disks.Single());
        string templateDisk = _db.DiskFiles.PathOf(template.Disks[0]);
        QemuTools.Run("qemu-img", "info", overlay).Output.Should().Contain($"backing file: ../{template.Id:N}/");
        QemuTools.Run("qemu-img", "compare", templateDisk, overlay).ExitCode.Should().Be(0, "the clone reads as the template");
        QemuTools.Info(overlay).ActualSize.Should().BeLessThan(1 * MiB, "nothing was copied");
        QemuTools.WritePattern(overlay, 0, 0x11);
        QemuTools.Holds(templateDisk, 0, 0x5a).Should().BeTrue("the clone's writes stay in its overlay");

        (await _db.Power.RunAsync(template.Id, VmPowerAction.Start, null, _ct)).Message.Should().Contain("is a template, which is never started");
        (await _disks.ResizeAsync(template.Id, 0, 64 * MiB, _ct)).Message.Should().Contain("is a template: its disks do not change");
        var edit = VmDefinitionInput.From(template);
        edit.Disks.Clear();
        (await _db.Vms.UpdateAsync(template.Id, edit, (await _db.Vms.FindAsync(template.Id, _ct))!.ConcurrencyStamp, _ct)).Status.Should().Be(ServiceStatus.Conflict);
        (await _db.Vms.SetTemplateAsync(template.Id, false, _ct)).Message.Should().Contain("linked is a linked clone of tmpl");
        (await _db.Vms.DeleteAsync(template.Id, null, keepDiskImages: false, _ct)).Message.Should().Contain("is the template of linked");

        (await _db.Vms.DeleteAsync(clone.Id, null, keepDiskImages: false, _ct)).Succeeded.Should().BeTrue();
        (await _db.Vms.SetTemplateAsync(template.Id, false, _ct)).Value!.IsTemplate.Should().BeFalse("no clone is built on it any more");
    }

    private sealed class NoRunningResizer : IRunningDiskResizer
    {
        public Task ResizeAsync(Guid vmId, int diskPosition, long sizeBytes, CancellationToken cancellationToken) =>
            throw new VmRuntimeException("no VMM here");
    }
}
