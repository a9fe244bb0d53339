using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Vmm;

// platform-vmm as a user runs it: exit codes, messages, and the guest's serial on stdout.
public sealed class VmmProgramTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_guest_that_resets_ends_the_VMM_with_code_2_and_its_serial_on_stdout()
    {
        var (code, stdout, _) = await VmmProcess.RunAsync(Timeout, "--kernel", TestGuests.Path("reset"), "--memory", "64M");
        code.Should().Be(2);
        stdout.Should().Contain("PLATFORM-TEST reset PASS");
    }

    [Fact]
    public async Task A_config_file_describes_the_machine()
    {
        string config = Path.Combine(Path.GetTempPath(), $"vm-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, $$"""
            { "kernel": "{{TestGuests.Path("smp")}}", "cpus": 2, "memory": "64M", "cmdline": "cpus=2" }
            """, TestContext.Current.CancellationToken);
        try
        {
            var (code, stdout, _) = await VmmProcess.RunAsync(Timeout, "--config", config);
            code.Should().Be(2, "the smp guest resets after its verdict");
            stdout.Should().Contain("smp: 2 CPUs").And.Contain("PLATFORM-TEST smp PASS");
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Theory]
    [InlineData("not a kernel at all", "neither a bzImage")]
    [InlineData("", "is empty")]
    public async Task A_bad_kernel_file_fails_to_start_with_a_reason(string content, string reason)
    {
        string kernel = Path.GetTempFileName();
        await File.WriteAllTextAsync(kernel, content + new string('x', content.Length > 0 ? 1000 : 0), TestContext.Current.CancellationToken);
        try
        {
            var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--kernel", kernel, "--memory", "64M");
            code.Should().Be(1);
            stderr.Should().Contain(reason);
        }
        finally
        {
            File.Delete(kernel);
        }
    }

    [Theory]
    [InlineData("--cpus", "17")]
    [InlineData("--memory", "12Q")]
    [InlineData("--bogus", "1")]
    [InlineData("--serial", "tcp")]
    [InlineData("--serial", "socket")]
    public async Task Usage_errors_exit_64_and_name_the_problem(string option, string value)
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--kernel", TestGuests.Path("hello"), option, value);
        code.Should().Be(64);
        stderr.Should().StartWith("platform-vmm: ").And.Contain("--help");
    }

    [Fact]
    public async Task Missing_kernel_file_is_a_start_failure()
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--kernel", "/nonexistent/kernel");
        code.Should().Be(1);
        stderr.Should().Contain("does not exist");
    }

    [Fact]
    public async Task Check_reports_the_kvm_kind_and_capabilities()
    {
        var (code, stdout, _) = await VmmProcess.RunAsync(Timeout, "--check");
        code.Should().Be(0);
        stdout.Should().MatchRegex("kvm: (hardware|pvm)").And.Contain("KVM_CAP_Irqchip: yes");
    }
}
