using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Components.Vms;
using Platform.Web.Data;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Components.Vms;

// A disk's I/O limits changed on the Hardware tab: sent to a running VM's VMM at once (block_set_io_throttle through
// IRunningDiskThrottle), and the tab says whether they apply now or at the next start, and why.
public sealed class VmDiskLimitsLiveTests : DashboardTestContext
{
    private readonly RecordingDiskThrottle _throttle = new();

    public VmDiskLimitsLiveTests()
    {
        Services.AddSingleton(new VmService(Db.Factory, Db.Host, Db.Runtime, Db.Events, Db.Images, Db.DiskFiles, Db.Tasks,
            quotas: Db.Quotas, diskThrottle: _throttle));
    }

    private sealed class RecordingDiskThrottle : IRunningDiskThrottle
    {
        public List<(Guid VmId, int Position, long? Bps, int? Iops)> Calls { get; } = [];

        public string? Refusal { get; set; }

        public Task SetAsync(Guid vmId, int diskPosition, long? bytesPerSecond, int? iops, CancellationToken cancellationToken)
        {
            if (Refusal is { } refusal)
            {
                throw new VmRuntimeException(refusal);
            }

            Calls.Add((vmId, diskPosition, bytesPerSecond, iops));
            return Task.CompletedTask;
        }
    }

    private async Task<VirtualMachine> VmWithTwoDisksAsync()
    {
        var result = await Services.GetRequiredService<VmService>().CreateAsync(new VmDefinitionInput
        {
            Name = "io-live", KernelPath = "/boot/vmlinuz",
            Disks = [new VmDiskInput { Blank = new BlankDiskInput { SizeBytes = 16L << 20 } }, new VmDiskInput { Blank = new BlankDiskInput { SizeBytes = 16L << 20 }, MaxIops = 500 }],
        }, Ct);
        result.Succeeded.Should().BeTrue(result.Message);
        return result.Value!;
    }

    private IRenderedComponent<VmLimitsEditor> Render(VirtualMachine vm, VmPowerState state)
    {
        Runtime.SetState(vm.Id, state);
        return Render<VmLimitsEditor>(p => p.Add(e => e.Vm, vm).Add(e => e.State, state));
    }

    private static void Type(IRenderedComponent<VmLimitsEditor> tab, string testId, string value) =>
        tab.Find($"[data-testid={testId}] input, input[data-testid={testId}]").Input(value);

    [Fact]
    public async Task A_running_vms_changed_disk_limit_goes_to_its_vmm_and_the_tab_says_it_applies_now()
    {
        var vm = await VmWithTwoDisksAsync();
        var tab = Render(vm, VmPowerState.Running);
        Type(tab, "hw-field-disk1-kibps", "2048");
        await tab.Find("[data-testid=hw-save-limits]").ClickAsync(new());

        tab.WaitForAssertion(() => tab.Find("[data-testid=hw-limits-applied]").TextContent.Should().Contain("Its disk limits apply now."));
        _throttle.Calls.Should().Equal([(vm.Id, 1, 2048L * 1024, 500)], "only the disk that changed, with both its limits");
        var saved = (await Db.Vms.FindAsync(vm.Id, Ct))!.Disks.OrderBy(d => d.Position).ToList();
        (saved[1].MaxBytesPerSecond, saved[1].MaxIops).Should().Be((2048L * 1024, 500), "and saved for the next start");
    }

    [Fact]
    public async Task A_stopped_vms_disk_limit_is_saved_for_its_next_start_without_asking_a_vmm()
    {
        var vm = await VmWithTwoDisksAsync();
        var tab = Render(vm, VmPowerState.Stopped);
        Type(tab, "hw-field-disk0-iops", "100");
        await tab.Find("[data-testid=hw-save-limits]").ClickAsync(new());

        tab.WaitForAssertion(() => tab.Find("[data-testid=hw-limits-applied]").TextContent.Should().Contain("at its next start"));
        _throttle.Calls.Should().BeEmpty();
        (await Db.Vms.FindAsync(vm.Id, Ct))!.Disks.Single(d => d.Position == 0).MaxIops.Should().Be(100);
    }

    [Fact]
    public async Task A_vmm_that_refuses_the_limits_leaves_them_for_the_next_start_and_the_tab_says_why()
    {
        var vm = await VmWithTwoDisksAsync();
        _throttle.Refusal = "The VMM did not take the new disk limits: no disk named 'disk0'";
        var tab = Render(vm, VmPowerState.Running);
        Type(tab, "hw-field-disk0-iops", "100");
        await tab.Find("[data-testid=hw-save-limits]").ClickAsync(new());

        tab.WaitForAssertion(() => tab.Find("[data-testid=hw-limits-applied]").TextContent
            .Should().Contain("Its disk limits could not be applied while it runs (The VMM did not take the new disk limits: no disk named 'disk0'); they apply at its next start."));
    }
}
