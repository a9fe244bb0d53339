using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Quotas;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.Quotas;

// VMs made before quotas had no owner and counted nowhere: at start each gets its creator from the audit log, else
// the first administrator, and then counts against that user's quota.
public sealed class OwnerlessVmsTests : IDisposable
{
    private readonly TestDatabase _db = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _db.Dispose();

    private OwnerlessVms Fixer => new(_db.Factory, _db.Audit, NullLogger<OwnerlessVms>.Instance);

    private async Task<VirtualMachine> OwnerlessAsync(string name, int memoryMiB = 512)
    {
        var result = await _db.Vms.CreateAsync(new VmDefinitionInput { Name = name, MemoryMiB = memoryMiB, KernelPath = "/boot/vmlinuz" }, Ct);
        result.Succeeded.Should().BeTrue(result.Message);
        result.Value!.OwnerId.Should().BeNull("made as before quotas, with no owner");
        return result.Value;
    }

    private async Task<string?> OwnerOfAsync(Guid vmId)
    {
        await using var db = await _db.Factory.CreateDbContextAsync(Ct);
        return await db.VirtualMachines.Where(vm => vm.Id == vmId).Select(vm => vm.OwnerId).SingleAsync(Ct);
    }

    private Task AuditCreateAsync(string userId, string userName, Guid vmId, AuditResult result = AuditResult.Succeeded) =>
        _db.Audit.AddAsync(new AuditActor(userId, userName, null), AuditActions.VmCreate, result, vmId, detail: "POST /api/v1/vms answered 201");

    [Fact]
    public async Task Each_ownerless_vm_gets_its_creator_from_the_audit_log_else_the_first_administrator()
    {
        string bob = _db.AddUser("bob-owner", (BuiltInRoles.VmAdminId, null));
        string gone = _db.AddUser("gone-owner", (BuiltInRoles.VmAdminId, null));
        string laterAdmin = _db.AddUser("later-admin", (BuiltInRoles.AdministratorId, null));
        var bobs = await OwnerlessAsync("bobs", memoryMiB: 768);
        var refused = await OwnerlessAsync("refused-then-made");
        var orphan = await OwnerlessAsync("orphan");
        var owned = (await _db.Vms.CreateAsync(new VmDefinitionInput { Name = "owned", KernelPath = "/boot/vmlinuz" }, Ct, ownerId: laterAdmin)).Value!;
        await AuditCreateAsync(bob, "bob-owner", bobs.Id);
        await AuditCreateAsync(bob, "bob-owner", refused.Id, AuditResult.Denied);
        await AuditCreateAsync(gone, "gone-owner", orphan.Id);
        await using (var db = await _db.Factory.CreateDbContextAsync(Ct))
        {
            await db.Users.Where(u => u.Id == gone).ExecuteDeleteAsync(Ct);
        }

        (await Fixer.AssignAsync(Ct)).Should().Be(3);

        (await OwnerOfAsync(bobs.Id)).Should().Be(bob, "the audit log says bob created it");
        (await OwnerOfAsync(refused.Id)).Should().Be(_db.AdminId, "a refused attempt is not a creation");
        (await OwnerOfAsync(orphan.Id)).Should().Be(_db.AdminId, "its creator no longer exists: the first administrator, not a later one");
        (await OwnerOfAsync(owned.Id)).Should().Be(laterAdmin, "an owned VM keeps its owner");
        var entries = (await _db.Audit.ListAsync(new AuditQuery { Action = AuditActions.VmOwnerAssign }, Ct)).Items;
        entries.Should().HaveCount(3);
        entries.Single(e => e.VmId == bobs.Id).Detail.Should().Contain("its creator, from the audit log");
        entries.Single(e => e.VmId == orphan.Id).Detail.Should().Contain("the first administrator");
        (await Fixer.AssignAsync(Ct)).Should().Be(0, "once every VM has an owner there is nothing to do");
    }

    [Fact]
    public async Task A_vm_given_its_owner_counts_against_their_quota()
    {
        string bob = _db.AddUser("bob-quota", (BuiltInRoles.VmAdminId, null));
        var bobs = await OwnerlessAsync("bobs-old", memoryMiB: 768);
        await AuditCreateAsync(bob, "bob-quota", bobs.Id);
        (await _db.Quotas.SetAsync(new ResourceQuota { UserId = bob, MaxMemoryMiB = 1024 }, Ct)).Succeeded.Should().BeTrue();
        (await _db.Quotas.CheckAsync(bob, new QuotaAmounts(MemoryMiB: 512), "this VM", Ct)).Should().BeNull("the old VM counts nowhere yet");

        await Fixer.AssignAsync(Ct);

        (await _db.Quotas.ListAsync(Ct)).Single().Used.MemoryMiB.Should().Be(768);
        (await _db.Quotas.CheckAsync(bob, new QuotaAmounts(MemoryMiB: 512), "this VM", Ct))
            .Should().Be("Quota exceeded: you use 768 MiB of 1 GiB of memory; this VM needs 512 MiB.");
    }
}
