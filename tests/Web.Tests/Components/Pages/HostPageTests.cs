using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Components.Pages;
using Platform.Web.Services.Cluster;
using Platform.Web.Services.Database;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Components.Pages;

/// <summary>The Host page says which platform-vmm VMs run, and why that one, and what each running VM's VMM takes.</summary>
public sealed class HostPageTests : DashboardTestContext, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("host-page-").FullName;

    void IDisposable.Dispose() => Directory.Delete(_folder, recursive: true);

    private void UseVmm(string? path) =>
        Services.AddSingleton(new VmmProgram(new SupervisorOptions { VmmPath = path }, NullLogger<VmmProgram>.Instance));

    [Fact]
    public void Lists_the_database_backups_and_says_how_to_restore_one()
    {
        UseVmm(null);
        var backups = new DatabaseBackups(Path.Combine(Db.DataDirectory, "platform.db"), TimeProvider.System);
        var taken = backups.Take("daily");
        Services.AddSingleton(backups);

        var page = Render<HostPage>();

        page.WaitForAssertion(() => page.Find("[data-testid=host-backups]").TextContent.Should().Contain("daily").And.Contain(taken.FileName));
        page.Find("[data-testid=host-backups-about]").TextContent.Should().Contain("./platform restore-db").And.Contain("7 days");
    }

    [Fact]
    public void Lists_the_single_host_as_the_only_active_host()
    {
        UseVmm(null);

        var page = Render<HostPage>();

        page.WaitForAssertion(() => page.FindAll("[data-testid=cluster-host-name]").Should().ContainSingle()
            .Which.TextContent.Should().Be($"{Environment.MachineName} (this host)"));
        page.Find("[data-testid=cluster-host-state]").TextContent.Should().Be("Active");
        page.Find("[data-testid=cluster-single-host]").TextContent.Should().Contain("no cluster is configured");
    }

    [Fact]
    public void Lists_every_host_of_a_cluster_with_its_state_and_no_file_backups()
    {
        UseVmm(null);
        var now = DateTimeOffset.UtcNow;
        Services.AddSingleton<IClusterHosts>(new FixedClusterHosts(
            new ClusterHost("host-a", "10.0.0.11:11111", ClusterHostState.Active, now, now.AddHours(-1), IsThisHost: true),
            new ClusterHost("host-b", "10.0.0.12:11111", ClusterHostState.Dead, now.AddMinutes(-5), now.AddHours(-2), IsThisHost: false)));
        Services.AddSingleton(new ClusterSettings { ConnectionString = "Host=db;Database=platform" });

        var page = Render<HostPage>();

        page.WaitForAssertion(() => page.FindAll("[data-testid=cluster-host-name]").Select(n => n.TextContent)
            .Should().Equal("host-a (this host)", "host-b"));
        page.FindAll("[data-testid=cluster-host-state]").Select(n => n.TextContent).Should().Equal("Active", "Dead");
        page.FindAll("[data-testid=cluster-single-host]").Should().BeEmpty();
        page.Find("[data-testid=host-backups-cluster]").TextContent.Should().Contain("pg_dump");
        page.FindAll("[data-testid=host-backups-about]").Should().BeEmpty("a cluster's database is not a file the dashboard copies");
    }

    private sealed class FixedClusterHosts(params ClusterHost[] hosts) : IClusterHosts
    {
        public Task<IReadOnlyList<ClusterHost>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<ClusterHost>>(hosts);
    }

    [Fact]
    public void Names_the_vmm_binary_its_build_and_the_reason()
    {
        string binary = Path.Combine(_folder, "platform-vmm");
        File.WriteAllText(binary, "");
        UseVmm(binary);

        var page = Render<HostPage>();

        page.WaitForAssertion(() => page.Find("[data-testid=host-vmm-kind]").TextContent.Should().Contain("NativeAOT"));
        page.Find("[data-testid=host-vmm-path]").TextContent.Should().Be(binary);
        page.Find("[data-testid=host-vmm-reason]").TextContent.Should().Be("set by Platform:Supervisor:VmmPath");
    }

    [Fact]
    public void A_jit_build_is_called_so_and_a_missing_binary_says_what_to_do()
    {
        string binary = Path.Combine(_folder, "platform-vmm");
        File.WriteAllText(binary, "");
        File.WriteAllText(binary + ".dll", "");
        UseVmm(binary);

        var page = Render<HostPage>();
        page.WaitForAssertion(() => page.Find("[data-testid=host-vmm-kind]").TextContent.Should().Contain("JIT"));

        File.Delete(binary);
        var again = Render<HostPage>();
        again.WaitForAssertion(() => again.Find("[data-testid=host-vmm-reason]").TextContent.Should().Contain("does not exist"));
    }

    [Fact]
    public async Task Shows_the_resident_memory_of_each_running_vm_s_vmm()
    {
        UseVmm(Path.Combine(_folder, "none"));
        var vm = await CreateVmAsync("measured");
        Runtime.SetState(vm.Id, VmPowerState.Running);

        var page = Render<HostPage>();
        page.WaitForAssertion(() => page.Find("[data-testid=host-vmm-rss]").TextContent.Should().Be("–"));
        RuntimeInfo.Publish(new VmStatsSample(vm.Id, new VmmStats(1, 10, 64ul << 20, 9_961_472, [], []), DateTimeOffset.UtcNow));

        page.WaitForAssertion(() => page.Find("[data-testid=host-vmm-rss]").TextContent.Should().Be("9.5 MiB"));
    }
}
