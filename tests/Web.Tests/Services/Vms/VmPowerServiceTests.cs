using Platform.Web.Data;
using Platform.Web.Services;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.Vms;

public sealed class VmPowerServiceTests : IDisposable
{
    private readonly TestDatabase _db = new();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose() => _db.Dispose();

    [Theory]
    [InlineData(VmPowerAction.Start, "start", VmPowerState.Running)]
    [InlineData(VmPowerAction.Shutdown, "shutdown", VmPowerState.Stopped)]
    [InlineData(VmPowerAction.Stop, "stop", VmPowerState.Stopped)]
    [InlineData(VmPowerAction.Pause, "pause", VmPowerState.Paused)]
    [InlineData(VmPowerAction.Resume, "resume", VmPowerState.Running)]
    [InlineData(VmPowerAction.Reset, "reset", VmPowerState.Running)]
    public async Task Each_action_reaches_the_runtime_and_is_logged(VmPowerAction action, string call, VmPowerState after)
    {
        var vm = await Create();
        var result = await _db.Power.RunAsync(vm.Id, action, null, _ct);
        result.Value.Should().Be(after);
        _db.Runtime.Calls.Should().Equal((call, vm.Id));
        var logged = (await _db.Events.ListAsync(vm.Id, 0, 1, _ct)).Items.Single();
        (logged.Kind, logged.Result).Should().Be((action.ToString(), VmEventResult.Succeeded));
    }

    [Fact]
    public async Task Shutdown_waits_the_default_timeout_unless_told()
    {
        var vm = await Create();
        await _db.Power.RunAsync(vm.Id, VmPowerAction.Shutdown, null, _ct);
        _db.Runtime.LastShutdownTimeout.Should().Be(VmPowerService.DefaultShutdownTimeout);
        await _db.Power.RunAsync(vm.Id, VmPowerAction.Shutdown, TimeSpan.FromSeconds(5), _ct);
        _db.Runtime.LastShutdownTimeout.Should().Be(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_runtime_refusal_is_a_conflict_and_an_unavailable_supervisor_is_unavailable_both_logged()
    {
        var vm = await Create();
        _db.Runtime.NextFailure = new VmRuntimeException("web is already running");
        var refused = await _db.Power.RunAsync(vm.Id, VmPowerAction.Start, null, _ct);
        (refused.Status, refused.Message).Should().Be((ServiceStatus.Conflict, "web is already running"));

        _db.Runtime.NextFailure = new VmRuntimeException("The VM supervisor is not running") { Unavailable = true };
        var unavailable = await _db.Power.RunAsync(vm.Id, VmPowerAction.Stop, null, _ct);
        unavailable.Status.Should().Be(ServiceStatus.Unavailable);

        var log = (await _db.Events.ListAsync(vm.Id, 0, 10, _ct)).Items;
        log.Take(2).Should().OnlyContain(e => e.Result == VmEventResult.Failed);
        log[0].Message.Should().Contain("Stop web failed: The VM supervisor is not running");
    }

    [Fact]
    public async Task An_unknown_vm_is_not_found_and_the_runtime_is_not_asked()
    {
        (await _db.Power.RunAsync(Guid.NewGuid(), VmPowerAction.Start, null, _ct)).Status.Should().Be(ServiceStatus.NotFound);
        _db.Runtime.Calls.Should().BeEmpty();
    }

    private async Task<VirtualMachine> Create() =>
        (await _db.Vms.CreateAsync(new VmDefinitionInput { Name = "web", KernelPath = "/boot/vmlinuz" }, _ct)).Value!;
}
