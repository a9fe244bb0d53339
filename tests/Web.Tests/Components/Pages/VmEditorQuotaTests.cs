using Bunit;
using Platform.Web.Components.Pages;
using Platform.Web.Components.Vms;
using Platform.Web.Data;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Components.Pages;

// The wizard and the Hardware tab with quotas and limits: a refusal shows its numbers, limits are set and shown.
public sealed class VmEditorQuotaTests : DashboardTestContext
{
    private static void Type(IRenderedComponent<VmEditor> page, string testId, string value) =>
        page.Find($"[data-testid={testId}] input, input[data-testid={testId}]").Input(value);

    private static async Task NextAsync(IRenderedComponent<VmEditor> page) =>
        await page.Find("[data-testid=wizard-next]").ClickAsync(new());

    [Fact]
    public async Task Creating_past_the_memory_quota_in_the_wizard_shows_the_numbers_and_creates_nothing()
    {
        (await Db.Quotas.SetAsync(new ResourceQuota { UserId = Db.AdminId, MaxMemoryMiB = 1024 }, Ct)).Succeeded.Should().BeTrue();
        (await Db.Vms.CreateAsync(new VmDefinitionInput { Name = "owned", MemoryMiB = 768, KernelPath = "/boot/vmlinuz" }, Ct, ownerId: Db.AdminId)).Succeeded.Should().BeTrue();

        var page = Render<VmEditor>();
        Type(page, "field-name", "one-too-many");
        await NextAsync(page);
        Type(page, "field-memory", "512");
        await NextAsync(page);
        Type(page, "field-kernel-path", "/boot/vmlinuz");
        await NextAsync(page); // to disks and network
        await NextAsync(page); // to cloud-init
        await NextAsync(page); // to the review
        await page.Find("[data-testid=wizard-save]").ClickAsync(new());

        page.WaitForAssertion(() => page.Find("[data-testid=editor-refused]").TextContent.Trim()
            .Should().Be("Quota exceeded: you use 768 MiB of 1 GiB of memory; this VM needs 512 MiB."));
        (await Db.Vms.ListAsync(Ct)).Should().NotContain(vm => vm.Name == "one-too-many");
    }

    [Fact]
    public async Task The_wizard_sets_cpu_and_task_limits_and_refuses_a_cpu_limit_above_the_vcpus()
    {
        var page = Render<VmEditor>();
        Type(page, "field-name", "limited-wizard");
        await NextAsync(page);
        Type(page, "field-vcpus", "2");
        Type(page, "field-cpu-limit", "3");
        await NextAsync(page);
        page.WaitForAssertion(() => page.Markup.Should().Contain("A CPU limit is at most the VM's 2 vCPUs; got 3."));
        Type(page, "field-cpu-limit", "1.5");
        Type(page, "field-cpu-units", "400");
        Type(page, "field-pids-limit", "256");
        await NextAsync(page);
        Type(page, "field-kernel-path", "/boot/vmlinuz");
        await NextAsync(page); // to disks and network
        await NextAsync(page); // to cloud-init
        await NextAsync(page); // to the review
        await page.Find("[data-testid=wizard-save]").ClickAsync(new());

        page.WaitForAssertion(() => Db.Vms.ListAsync(Ct).GetAwaiter().GetResult().Should().Contain(vm => vm.Name == "limited-wizard"));
        var vm = (await Db.Vms.ListAsync(Ct)).Single(v => v.Name == "limited-wizard");
        (vm.CpuLimit, vm.CpuUnits, vm.PidsLimit).Should().Be((1.5, 400, 256));
    }

    [Fact]
    public async Task The_hardware_tab_changes_the_limits_and_the_summary_shows_them()
    {
        var vm = await CreateVmAsync("hw-limits", vcpus: 2);
        var tab = Render<VmHardwareTab>(p => p.Add(t => t.Vm, vm));
        tab.Find("[data-testid=hw-cpu-limit]").TextContent.Should().Be("none");
        tab.Find("[data-testid=hw-field-cpu-limit] input, input[data-testid=hw-field-cpu-limit]").Input("0.5");
        tab.Find("[data-testid=hw-field-pids-limit] input, input[data-testid=hw-field-pids-limit]").Input("10");
        await tab.Find("[data-testid=hw-save-limits]").ClickAsync(new());
        tab.WaitForAssertion(() => tab.Markup.Should().Contain("A task limit is 64 to"));

        tab.Find("[data-testid=hw-field-pids-limit] input, input[data-testid=hw-field-pids-limit]").Input("128");
        await tab.Find("[data-testid=hw-save-limits]").ClickAsync(new());
        tab.WaitForAssertion(() => tab.Find("[data-testid=hw-cpu-limit]").TextContent.Should().Be("0.5 CPUs"));
        var saved = (await Db.Vms.FindAsync(vm.Id, Ct))!;
        (saved.CpuLimit, saved.PidsLimit).Should().Be((0.5, 128));

        var summary = Render<VmSummaryTab>(p => p.Add(t => t.Vm, saved));
        summary.Find("[data-testid=limit-cpu]").TextContent.Should().Be("at most 0.5 CPUs, weight 100");
        summary.Find("[data-testid=limit-memory]").TextContent.Should().Contain("640 MiB").And.Contain("512 MiB of guest RAM");
        summary.Find("[data-testid=limit-pids]").TextContent.Should().Be("128 tasks");
    }
}
