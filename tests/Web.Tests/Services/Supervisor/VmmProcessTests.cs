using System.Diagnostics;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Services.Supervisor;

/// <summary>
/// A pid file is trusted only for a process that runs that VM: vmm.pid lies in a folder the jailed VMM may write, and
/// the dashboard ends the process it names.
/// </summary>
public sealed class VmmProcessTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("platform-vmmprocess-").FullName;
    private readonly List<Process> _started = [];

    public void Dispose()
    {
        foreach (var process in _started)
        {
            process.Kill();
            process.Dispose();
        }

        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A live process whose command line is <c>sh -c 'sleep 30' sh EXTRA…</c>.</summary>
    private int Start(params string[] extra)
    {
        var start = new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "sleep 30", "sh" } };
        foreach (string argument in extra)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        _started.Add(process);
        return process.Id;
    }

    [Fact]
    public void A_process_started_with_this_folders_configuration_is_its_vmm()
    {
        int pid = Start("--config", Path.Combine(_folder, "vm.json"), "--jail", "1:1");
        VmmProcess.IsVmmOf(pid, _folder).Should().BeTrue();
    }

    [Fact]
    public void Another_vms_vmm_or_any_other_process_is_not()
    {
        string other = Directory.CreateDirectory(Path.Combine(_folder, "other")).FullName;
        int otherVm = Start("--config", Path.Combine(other, "vm.json"));
        VmmProcess.IsVmmOf(otherVm, _folder).Should().BeFalse("it runs another VM");
        VmmProcess.IsVmmOf(Start(), _folder).Should().BeFalse("its command line names no configuration");
        VmmProcess.IsVmmOf(Environment.ProcessId, _folder).Should().BeFalse("the dashboard itself is not a VMM");
        VmmProcess.IsVmmOf(int.MaxValue, _folder).Should().BeFalse("no such process");
    }
}
