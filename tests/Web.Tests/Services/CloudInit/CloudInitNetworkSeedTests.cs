using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;
using static Platform.Web.Tests.Services.CloudInit.CloudInitSeedTests;

namespace Platform.Web.Tests.Services.CloudInit;

/// <summary>
/// Static addresses in the seed's network-config, read back with isoinfo and parsed by PyYAML (cloud-init's parser): each
/// NIC matched by its MAC, static or DHCP; checked against the bridge network's subnet when saved; and a change of them
/// is a new instance id, so cloud-init applies it at the next boot.
/// </summary>
public sealed class CloudInitNetworkSeedTests : IDisposable
{
    private readonly TestDatabase _db = new();
    private readonly CloudInitService _service;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public CloudInitNetworkSeedTests() => _service = new CloudInitService(_db.Factory, _db.DiskFiles, _db.Events, NullLogger<CloudInitService>.Instance);

    public void Dispose() => _db.Dispose();

    /// <summary>A VM with a NIC on the default NAT and one on a bridge network whose subnet is 192.168.10.0/24.</summary>
    private async Task<VirtualMachine> CreateVmAsync()
    {
        _db.Bridges.Bridges.Add("vmbr0");
        var lan = await _db.Networks.CreateBridgeAsync(new AuditActor(_db.AdminId, "admin", null), "lan", "vmbr0", null, null, _ct,
            subnet: "192.168.10.0/24", gateway: "192.168.10.1");
        lan.Succeeded.Should().BeTrue(lan.Message);
        var created = await _db.Vms.CreateAsync(new VmDefinitionInput
        {
            Name = "static", KernelPath = "/boot/vmlinuz", Nics = [VmNicInput.OnDefaultNetwork(), new VmNicInput { NetworkId = lan.Value!.Id }],
            CloudInit = new CloudInitInput { UserName = "alice", Password = "pw-alice" },
        }, _ct);
        created.Succeeded.Should().BeTrue(string.Join("; ", created.Errors.SelectMany(e => e.Value)));
        return created.Value!;
    }

    private static CloudInitInput Settings(params CloudInitNicInput[] networks) => new() { UserName = "alice", Networks = [.. networks] };

    [Fact]
    public async Task A_static_nic_gets_its_addresses_routes_and_dns_and_the_other_keeps_dhcp()
    {
        var vm = await CreateVmAsync();
        string seed = _service.EnsureSeed(vm)!;
        string dhcpInstance = Yaml(Extract(seed, "meta-data")).GetProperty("instance-id").GetString()!;

        var saved = await _service.SaveAsync(vm.Id, Settings(new CloudInitNicInput
        {
            Position = 1, Mode = CloudInitNicMode.Static, Ipv4Address = " 192.168.10.20/24 ", Ipv4Gateway = "192.168.10.1",
            DnsServers = ["192.168.10.1", "2001:4860:4860:0::8888"], Ipv6Address = "2001:db8:10::20/64", Ipv6Gateway = "fe80::1",
        }), _ct);
        saved.Succeeded.Should().BeTrue(string.Join("; ", saved.Errors.SelectMany(e => e.Value)));
        vm = (await _db.Vms.FindAsync(vm.Id, _ct))!;
        _service.EnsureSeed(vm).Should().Be(seed);

        Yaml(Extract(seed, "meta-data")).GetProperty("instance-id").GetString().Should().NotBe(dhcpInstance, "new addresses are a new instance");
        var network = Yaml(Extract(seed, "network-config"));
        network.GetProperty("version").GetInt32().Should().Be(2);
        var ethernets = network.GetProperty("ethernets");
        var nat = ethernets.GetProperty("nic0");
        nat.GetProperty("match").GetProperty("macaddress").GetString().Should().Be(vm.Nics[0].MacAddress);
        nat.GetProperty("dhcp4").GetBoolean().Should().BeTrue();
        var lan = ethernets.GetProperty("nic1");
        lan.GetProperty("match").GetProperty("macaddress").GetString().Should().Be(vm.Nics.Single(n => n.Position == 1).MacAddress);
        lan.GetProperty("dhcp4").GetBoolean().Should().BeFalse();
        lan.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()).Should().Equal("192.168.10.20/24", "2001:db8:10::20/64");
        lan.GetProperty("routes").EnumerateArray().Select(r => (r.GetProperty("to").GetString(), r.GetProperty("via").GetString()))
            .Should().Equal(("0.0.0.0/0", "192.168.10.1"), ("::/0", "fe80::1"));
        lan.GetProperty("nameservers").GetProperty("addresses").EnumerateArray().Select(a => a.GetString())
            .Should().Equal("192.168.10.1", "2001:4860:4860::8888");
        lan.TryGetProperty("set-name", out _).Should().BeFalse("the guest keeps its own interface names");
    }

    [Fact]
    public async Task Addresses_outside_the_networks_subnet_are_refused_by_field_and_nothing_is_saved()
    {
        var vm = await CreateVmAsync();

        var refused = await _service.SaveAsync(vm.Id, Settings(
            new CloudInitNicInput { Position = 0, Mode = CloudInitNicMode.Static, Ipv4Address = "10.0.2.20/24", DnsServers = ["not-an-ip"] },
            new CloudInitNicInput { Position = 1, Mode = CloudInitNicMode.Static, Ipv4Address = "192.168.11.20/24", Ipv4Gateway = "192.168.11.1" }), _ct);

        refused.Succeeded.Should().BeFalse();
        refused.Errors.Keys.Should().BeEquivalentTo("networks[0].dnsServers", "networks[1].ipv4Address");
        refused.Errors["networks[1].ipv4Address"].Single().Should().Be("192.168.11.20 is not in lan's subnet 192.168.10.0/24, where this NIC is.");
        (await _db.Vms.FindAsync(vm.Id, _ct))!.CloudInit!.StaticNics.Should().BeEmpty();
    }

    [Fact]
    public async Task Left_out_the_addresses_stay_and_a_dhcp_entry_removes_them()
    {
        var vm = await CreateVmAsync();
        (await _service.SaveAsync(vm.Id, Settings(new CloudInitNicInput { Position = 0, Mode = CloudInitNicMode.Static, Ipv4Address = "10.0.2.20/24" }), _ct))
            .Succeeded.Should().BeTrue();

        (await _service.SaveAsync(vm.Id, new CloudInitInput { UserName = "alice", Hostname = "renamed" }, _ct)).Succeeded.Should().BeTrue();
        (await _db.Vms.FindAsync(vm.Id, _ct))!.CloudInit!.StaticNics.Should().ContainSingle().Which.Ipv4Address.Should().Be("10.0.2.20/24");

        (await _service.SaveAsync(vm.Id, Settings(new CloudInitNicInput { Position = 0 }), _ct)).Succeeded.Should().BeTrue();
        vm = (await _db.Vms.FindAsync(vm.Id, _ct))!;
        vm.CloudInit!.StaticNics.Should().BeEmpty();
        Yaml(Extract(_service.EnsureSeed(vm)!, "network-config")).GetProperty("ethernets").GetProperty("nic0").GetProperty("dhcp4").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task A_removed_nics_addresses_go_with_it()
    {
        var vm = await CreateVmAsync();
        (await _service.SaveAsync(vm.Id, Settings(
            new CloudInitNicInput { Position = 0, Mode = CloudInitNicMode.Static, Ipv4Address = "10.0.2.20/24" },
            new CloudInitNicInput { Position = 1, Mode = CloudInitNicMode.Static, Ipv4Address = "192.168.10.20/24" }), _ct)).Succeeded.Should().BeTrue();
        vm = (await _db.Vms.FindAsync(vm.Id, _ct))!;

        var input = VmDefinitionInput.From(vm);
        input.Nics.RemoveAt(1);
        var updated = await _db.Vms.UpdateAsync(vm.Id, input, vm.ConcurrencyStamp, _ct);

        updated.Succeeded.Should().BeTrue(updated.Message);
        (await _db.Vms.FindAsync(vm.Id, _ct))!.CloudInit!.StaticNics.Select(n => n.Position).Should().Equal(0);
    }
}
