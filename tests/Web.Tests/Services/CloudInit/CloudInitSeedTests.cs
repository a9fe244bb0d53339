using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Data;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.CloudInit;

/// <summary>
/// The NoCloud seed as a guest's cloud-init would find it: read back with the reference readers (genisoimage's isoinfo,
/// xorriso) for its label and files, and its YAML parsed by PyYAML, the parser cloud-init itself uses; made again, with
/// a new instance id, only when the settings change; the last disk, read-only, of what the VMM is given.
/// </summary>
public sealed class CloudInitSeedTests : IDisposable
{
    private readonly TestDatabase _db = new();
    private readonly CloudInitService _service;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public CloudInitSeedTests() => _service = new CloudInitService(_db.Factory, _db.DiskFiles, _db.Events, NullLogger<CloudInitService>.Instance);

    public void Dispose() => _db.Dispose();

    private async Task<VirtualMachine> CreateVmAsync(string name, CloudInitInput cloudInit)
    {
        var result = await _db.Vms.CreateAsync(new VmDefinitionInput
        {
            Name = name, KernelPath = "/boot/vmlinuz", Nics = [VmNicInput.OnDefaultNetwork()], CloudInit = cloudInit,
        }, _ct);
        result.Succeeded.Should().BeTrue(string.Join("; ", result.Errors.SelectMany(e => e.Value)) + result.Message);
        return result.Value!;
    }

    private static string Isoinfo(params string[] args)
    {
        var (code, output) = QemuTools.Run("isoinfo", args);
        code.Should().Be(0, output);
        return output;
    }

    /// <summary>A file of the seed as isoinfo extracts it through its Rock Ridge name.</summary>
    internal static string Extract(string iso, string name) => Isoinfo("-R", "-i", iso, "-x", "/" + name);

    /// <summary>YAML parsed by PyYAML (cloud-init's parser), handed back as JSON.</summary>
    internal static JsonElement Yaml(string text)
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, text);
            var (code, output) = QemuTools.Run("python3", "-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", file);
            code.Should().Be(0, output);
            return JsonDocument.Parse(output).RootElement.Clone();
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_seed_is_an_iso_labelled_cidata_whose_files_hold_the_settings()
    {
        string key = CloudInitRulesTests.PublicKey(comment: "alice: \"laptop\" # {not: yaml}");
        var vm = await CreateVmAsync("Web.Server_1", new CloudInitInput
        {
            UserName = "alice", Password = "s3cret pass", SshAuthorizedKeys = key, Packages = "nginx, htop",
        });
        vm.CloudInit!.PasswordHash.Should().StartWith("$6$").And.NotContain("s3cret", "only the hash is stored");

        string seed = _service.EnsureSeed(vm)!;

        seed.Should().Be(Path.Combine(_db.DataDirectory, "disks", vm.Id.ToString("N"), "cidata.iso"));
        Isoinfo("-d", "-i", seed).Should().Contain("Volume id: cidata");
        Isoinfo("-R", "-f", "-i", seed).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Should().BeEquivalentTo(["/meta-data", "/user-data", "/network-config"]);
        var (code, listing) = QemuTools.Run("xorriso", "-indev", seed, "-ls", "/");
        code.Should().Be(0, listing);
        listing.Should().Contain("'meta-data'").And.Contain("'user-data'").And.Contain("'network-config'");

        var meta = Yaml(Extract(seed, "meta-data"));
        meta.GetProperty("instance-id").GetString().Should().StartWith($"iid-{vm.Id:N}-");
        meta.GetProperty("local-hostname").GetString().Should().Be("web-server-1");

        string userDataText = Extract(seed, "user-data");
        userDataText.Should().StartWith("#cloud-config\n");
        var userData = Yaml(userDataText);
        userData.GetProperty("hostname").GetString().Should().Be("web-server-1");
        var user = userData.GetProperty("users")[0];
        user.GetProperty("name").GetString().Should().Be("alice");
        user.GetProperty("passwd").GetString().Should().Be(vm.CloudInit.PasswordHash);
        user.GetProperty("lock_passwd").GetBoolean().Should().BeFalse();
        user.GetProperty("ssh_authorized_keys").EnumerateArray().Select(k => k.GetString()).Should().Equal([key], "the comment's quotes and # stay text");
        userData.GetProperty("ssh_pwauth").GetBoolean().Should().BeTrue();
        userData.GetProperty("packages").EnumerateArray().Select(p => p.GetString()).Should().Equal(["nginx", "htop"]);
        string salt = user.GetProperty("passwd").GetString()!.Split('$')[2];
        QemuTools.Run("openssl", "passwd", "-6", "-salt", salt, "s3cret pass").Output.Trim().Should().Be(vm.CloudInit.PasswordHash, "the password logs in");

        var network = Yaml(Extract(seed, "network-config"));
        network.GetProperty("version").GetInt32().Should().Be(2);
        var nic = network.GetProperty("ethernets").GetProperty("nic0");
        nic.GetProperty("match").GetProperty("macaddress").GetString().Should().Be(vm.Nics.Single().MacAddress);
        nic.GetProperty("dhcp4").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task The_seed_is_made_again_with_a_new_instance_id_only_when_the_settings_change()
    {
        var vm = await CreateVmAsync("regen", new CloudInitInput { UserName = "bob", SshAuthorizedKeys = CloudInitRulesTests.PublicKey() });
        string seed = _service.EnsureSeed(vm)!;
        string firstId = Yaml(Extract(seed, "meta-data")).GetProperty("instance-id").GetString()!;
        var written = File.GetLastWriteTimeUtc(seed);
        File.SetLastWriteTimeUtc(seed, written.AddMinutes(-5));

        _service.EnsureSeed((await _db.Vms.FindAsync(vm.Id, _ct))!).Should().Be(seed);
        File.GetLastWriteTimeUtc(seed).Should().Be(written.AddMinutes(-5), "nothing changed, so the seed was not written again");

        (await _service.SaveAsync(vm.Id, new CloudInitInput { UserName = "bob", Hostname = "db01.example.org", SshAuthorizedKeys = vm.CloudInit!.SshAuthorizedKeys }, _ct))
            .Succeeded.Should().BeTrue();
        _service.EnsureSeed((await _db.Vms.FindAsync(vm.Id, _ct))!);

        var meta = Yaml(Extract(seed, "meta-data"));
        meta.GetProperty("instance-id").GetString().Should().NotBe(firstId, "cloud-init applies settings again only for a new instance");
        meta.GetProperty("local-hostname").GetString().Should().Be("db01");
        Yaml(Extract(seed, "user-data")).GetProperty("fqdn").GetString().Should().Be("db01.example.org");
        Directory.GetFileSystemEntries(Path.GetDirectoryName(seed)!).Select(Path.GetFileName)
            .Should().BeEquivalentTo(["cidata.iso", "cidata.iso.instance-id"], "no temporary file or staging folder is left");
    }

    [Fact]
    public async Task Own_user_data_goes_as_it_is_and_a_vm_without_cloud_init_gets_no_seed()
    {
        const string script = "#!/bin/sh\necho hello > /etc/motd\n";
        var vm = await CreateVmAsync("custom", new CloudInitInput { UserName = "carol", UserData = script });

        Extract(_service.EnsureSeed(vm)!, "user-data").Should().Be(script);

        var plain = (await _db.Vms.CreateAsync(new VmDefinitionInput { Name = "plain", KernelPath = "/boot/vmlinuz" }, _ct)).Value!;
        _service.EnsureSeed(plain).Should().BeNull();
        (await _service.SaveAsync(vm.Id, new CloudInitInput { Enabled = false, UserName = "carol", UserData = script }, _ct)).Succeeded.Should().BeTrue();
        _service.EnsureSeed((await _db.Vms.FindAsync(vm.Id, _ct))!).Should().BeNull("cloud-init is off");
    }

    [Fact]
    public async Task The_vmm_gets_the_seed_as_its_last_disk_read_only_after_the_vms_own_disks()
    {
        string kernel = Path.Combine(_db.DataDirectory, "vmlinuz");
        await File.WriteAllTextAsync(kernel, "k", _ct);
        var created = await _db.Vms.CreateAsync(new VmDefinitionInput
        {
            Name = "seeded", KernelPath = kernel, Disks = [new VmDiskInput { Blank = new() { SizeBytes = 1 << 20 } }],
            CloudInit = new CloudInitInput { UserName = "dave", Password = "pw-for-dave" },
        }, _ct);
        var vm = created.Value!;

        var config = VmmConfigBuilder.Build(vm, _ => "", "/run/vm", ownDiskOf: _db.DiskFiles.PathOf, cloudInitSeedOf: _service.EnsureSeed);

        config.Disks.Should().HaveCount(2);
        config.Disks[0].Path.Should().Be(_db.DiskFiles.PathOf(vm.Disks[0]));
        config.Disks[0].ReadOnly.Should().BeFalse();
        config.Disks[1].Should().BeEquivalentTo(new DiskConfig(_service.SeedPathOf(vm.Id)) { ReadOnly = true, Format = DiskFormat.Raw });
        File.Exists(config.Disks[1].Path).Should().BeTrue();

        var failing = () => VmmConfigBuilder.Build(vm, _ => "", "/run/vm", ownDiskOf: _db.DiskFiles.PathOf,
            cloudInitSeedOf: _ => throw new IOException("xorriso is needed"));
        failing.Should().Throw<VmRuntimeException>().WithMessage("The cloud-init seed could not be made: xorriso is needed");
    }

    [Fact]
    public async Task Deleting_the_vm_deletes_its_seed()
    {
        var vm = await CreateVmAsync("gone", new CloudInitInput { UserName = "erin", Password = "pw-erin" });
        string seed = _service.EnsureSeed(vm)!;

        (await _db.Vms.DeleteAsync(vm.Id, null, keepDiskImages: false, _ct)).Succeeded.Should().BeTrue();

        File.Exists(seed).Should().BeFalse();
        Directory.Exists(Path.GetDirectoryName(seed)).Should().BeFalse();
    }
}
