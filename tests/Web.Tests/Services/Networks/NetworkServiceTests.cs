using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.Networks;

public sealed class NetworkServiceTests : IDisposable
{
    private readonly TestDatabase _db = new();
    private readonly AuditActor _admin;

    public NetworkServiceTests() => _admin = new AuditActor(_db.AdminId, "admin", null);

    public void Dispose() => _db.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_installation_has_the_default_nat_network()
    {
        var networks = await _db.Networks.ListAsync(Ct);
        networks.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Id = Network.DefaultId, Name = "default", Kind = NetworkKind.Nat, Bridge = (string?)null });
    }

    [Fact]
    public async Task A_bridge_network_names_one_of_the_hosts_bridges_and_a_unique_name()
    {
        _db.Bridges.Bridges.Add("vmbr0");

        (await _db.Networks.CreateBridgeAsync(_admin, "lan", "br-missing", null, null, Ct)).Errors["bridge"].Single().Should().Contain("pick one of: vmbr0");
        (await _db.Networks.CreateBridgeAsync(_admin, "-bad", "vmbr0", null, null, Ct)).Errors.Should().ContainKey("name");
        (await _db.Networks.CreateBridgeAsync(_admin, "lan", "vmbr0", null, "the office", Ct)).Succeeded.Should().BeTrue();
        (await _db.Networks.CreateBridgeAsync(_admin, "LAN", "vmbr0", null, null, Ct)).Errors["name"].Single().Should().Contain("already");
        (await _db.Networks.ListAsync(Ct)).Select(n => (n.Name, n.Kind, n.Bridge)).Should().Equal(("default", NetworkKind.Nat, null), ("lan", NetworkKind.Bridge, "vmbr0"));
    }

    [Fact]
    public async Task A_bridge_network_may_be_one_vlan_of_the_bridge()
    {
        _db.Bridges.Bridges.Add("vmbr0");

        (await _db.Networks.CreateBridgeAsync(_admin, "lan", "vmbr0", 0, null, Ct)).Errors["vlan"].Single().Should().Contain("from 1 to 4094");
        (await _db.Networks.CreateBridgeAsync(_admin, "lan", "vmbr0", 4095, null, Ct)).Errors.Should().ContainKey("vlan");
        var dmz = (await _db.Networks.CreateBridgeAsync(_admin, "dmz", "vmbr0", 42, null, Ct)).Value!;

        (await _db.Networks.FindAsync(dmz.Id, Ct))!.Vlan.Should().Be(42);
        dmz.Describe().Should().Be("bridge vmbr0, VLAN 42");
    }

    [Fact]
    public async Task A_bridge_network_may_have_a_known_subnet_and_gateway_checked_before_it_is_saved()
    {
        _db.Bridges.Bridges.Add("vmbr0");

        (await _db.Networks.CreateBridgeAsync(_admin, "lan", "vmbr0", null, null, Ct, subnet: "192.168.10.7/24")).Errors["subnet"].Single()
            .Should().Be("Give the subnet by its network address: 192.168.10.0/24, not 192.168.10.7/24.");
        (await _db.Networks.CreateBridgeAsync(_admin, "lan", "vmbr0", null, null, Ct, subnet: "192.168.10.0/24", gateway: "192.168.10.255")).Errors["gateway"]
            .Single().Should().Contain("broadcast");
        var lan = await _db.Networks.CreateBridgeAsync(_admin, "lan", "vmbr0", 7, null, Ct, subnet: " 192.168.10.0/24 ", gateway: "192.168.10.1");

        lan.Succeeded.Should().BeTrue();
        var saved = (await _db.Networks.FindAsync(lan.Value!.Id, Ct))!;
        (saved.Subnet, saved.Gateway).Should().Be(("192.168.10.0/24", "192.168.10.1"));
        saved.Describe().Should().Be("bridge vmbr0, VLAN 7, 192.168.10.0/24");
    }

    [Fact]
    public async Task A_network_in_use_and_the_default_one_stay_and_say_why()
    {
        _db.Bridges.Bridges.Add("vmbr0");
        var lan = (await _db.Networks.CreateBridgeAsync(_admin, "lan", "vmbr0", null, null, Ct)).Value!;
        var input = new VmDefinitionInput { Name = "on-lan", KernelPath = "/boot/vmlinuz", Nics = [new VmNicInput { NetworkId = lan.Id }] };
        var vm = (await _db.Vms.CreateAsync(input, Ct)).Value!;

        (await _db.Networks.DeleteAsync(_admin, Network.DefaultId, Ct)).Message.Should().Contain("default network stays");
        (await _db.Networks.DeleteAsync(_admin, lan.Id, Ct)).Message.Should().Contain("on-lan has a NIC on lan");
        (await _db.Networks.ListWithUsageAsync(Ct)).Single(u => u.Network.Id == lan.Id).UsedBy.Should().Equal("on-lan");

        (await _db.Vms.DeleteAsync(vm.Id, null, keepDiskImages: true, Ct)).Succeeded.Should().BeTrue();
        (await _db.Networks.DeleteAsync(_admin, lan.Id, Ct)).Succeeded.Should().BeTrue();
    }

    [Fact]
    public async Task A_host_port_another_vm_forwards_is_refused_naming_that_vm_and_forwards_sit_on_nat_networks_only()
    {
        _db.Bridges.Bridges.Add("vmbr0");
        var lan = (await _db.Networks.CreateBridgeAsync(_admin, "lan", "vmbr0", null, null, Ct)).Value!;
        VmDefinitionInput With(string name, Guid network, int hostPort) => new()
        {
            Name = name, KernelPath = "/boot/vmlinuz",
            Nics = [new VmNicInput { NetworkId = network, PortForwards = [new VmPortForward { HostAddress = "127.0.0.1", HostPort = hostPort, GuestPort = 22 }] }],
        };

        (await _db.Vms.CreateAsync(With("first", Network.DefaultId, 2222), Ct)).Succeeded.Should().BeTrue();
        var second = await _db.Vms.CreateAsync(With("second", Network.DefaultId, 2222), Ct);
        second.Errors["nics[0].portForwards[0].hostPort"].Single().Should().Be("first forwards tcp 127.0.0.1:2222 already.");
        (await _db.Vms.CreateAsync(With("third", Network.DefaultId, 2223), Ct)).Succeeded.Should().BeTrue();
        (await _db.Vms.CreateAsync(With("bridged", lan.Id, 2224), Ct)).Errors["nics[0].portForwards"].Single().Should().Contain("lan is a bridge");
        (await _db.Vms.CreateAsync(With("nowhere", Guid.NewGuid(), 2225), Ct)).Errors["nics[0].networkId"].Single().Should().Contain("does not exist");
    }
}
