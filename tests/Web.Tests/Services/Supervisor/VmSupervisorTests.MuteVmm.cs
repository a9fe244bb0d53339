using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Endpoints;

namespace Platform.Web.Tests.Services.Supervisor;

// A VMM that listens on its control socket but never greets: a jailed JIT build did that when an assembly it loads
// late was missing from its root, and the launcher let the client's timeout escape, so the VM stayed "starting" for
// good and the VMM ran on.
public sealed partial class VmSupervisorTests
{
    private const string MuteVmm = """
        #!/usr/bin/env python3
        # Stands in for platform-vmm: binds control.sock in the runtime folder, writes vmm.pid, accepts, says nothing.
        import os, socket, sys
        run = os.path.dirname(sys.argv[sys.argv.index('--config') + 1])
        server = socket.socket(socket.AF_UNIX)
        server.bind(os.path.join(run, 'control.sock'))
        server.listen(8)
        for path in (os.path.join(run, 'vmm.pid'), sys.argv[0] + '.pid'):
            with open(path, 'w') as pid:
                pid.write(str(os.getpid()))
        clients = []
        while True:
            clients.append(server.accept()[0])
        """;

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_vmm_that_never_greets_is_stopped_at_the_start_timeout_and_the_start_fails_saying_so()
    {
        // Outside the data folder, whose files the dashboard makes 0600 at start.
        string fake = Path.Combine(Path.GetTempPath(), $"mute-vmm-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(fake, MuteVmm, Token);
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            await StartTheMuteVmmAsync(fake);
        }
        finally
        {
            File.Delete(fake);
            File.Delete(fake + ".pid");
        }
    }

    private async Task StartTheMuteVmmAsync(string fake)
    {
        var app = NewApp(new Dictionary<string, string> { ["VmmPath"] = fake, ["StartTimeout"] = "00:00:03" });
        using var client = app.CreateClient();
        var vm = await CreateAsync(client, "mute", "echo");

        var response = await client.PostAsync($"/api/v1/vms/{vm.Id}/start", null, Token).WaitAsync(Timeout, Token);

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await response.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("did not answer on its control socket")
            .And.Contain("sent no greeting").And.Contain("was stopped");
        app.Services.GetRequiredService<IVmRuntime>().GetState(vm.Id).Should().Be(VmPowerState.Stopped);
        int pid = int.Parse(await File.ReadAllTextAsync(fake + ".pid", Token), CultureInfo.InvariantCulture);
        var gone = DateTime.UtcNow + Timeout;
        while (VmmIsAlive(pid) && DateTime.UtcNow < gone)
        {
            await Task.Delay(50, Token);
        }

        VmmIsAlive(pid).Should().BeFalse("the launcher kills the VMM it gave up on");
    }

    private static bool VmmIsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
