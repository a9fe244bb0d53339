using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Supervisor;

// A VM that boots from its first disk, with real VMMs: the kernel comes from the disk image's grub.cfg.
public sealed partial class VmSupervisorTests
{
    /// <summary>A whole-disk ext4 image made by Debian's mke2fs from a folder, in the test's data folder.</summary>
    private string DiskImage(string name, IReadOnlyDictionary<string, string> files)
    {
        string tree = Directory.CreateDirectory(Path.Combine(_dataDirectory, name + "-tree")).FullName;
        foreach (var (path, text) in files)
        {
            string full = Path.Combine(tree, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            if (text.StartsWith("copy:", StringComparison.Ordinal))
            {
                File.Copy(text[5..], full);
            }
            else
            {
                File.WriteAllText(full, text);
            }
        }

        string image = Path.Combine(_dataDirectory, name + ".img");
        string mke2fs = new[] { "/usr/sbin/mke2fs", "/sbin/mke2fs" }.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException("mke2fs is missing: install Debian's e2fsprogs (./platform test does).");
        var start = new ProcessStartInfo(mke2fs) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "-F", "-q", "-t", "ext4", "-d", tree, image, "16M" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        process.ExitCode.Should().Be(0, errors);
        return image;
    }

    private static async Task<VmResponse> CreateDiskBootAsync(HttpClient client, string name, string image)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name, bootMode = "Disk", memoryMiB = 64, displayEnabled = false, onReboot = "Exit",
            disks = new[] { new { path = image, readOnly = true } },
        }, ApiJson.Options, Token);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Token));
        return (await response.ReadAsync<VmResponse>())!;
    }

    [Fact]
    public async Task A_vm_that_boots_from_its_disk_runs_the_kernel_its_grub_cfg_names()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        string image = DiskImage("grub", new Dictionary<string, string>
        {
            ["/boot/hello.elf"] = "copy:" + SupervisedAppFactory.TestGuest("hello"),
            ["/boot/grub/grub.cfg"] = "menuentry 'Test guest' {\n  linux /boot/hello.elf from=grub-cfg end=halt\n}\n",
        });
        var vm = await CreateDiskBootAsync(client, "disk-boot", image);

        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        string serial = await ReadSerialUntilAsync(app.Services.GetRequiredService<IVmRuntimeInfo>(), vm.Id, "PLATFORM-TEST hello PASS");

        serial.Should().Contain("cmdline: from=grub-cfg end=halt console=ttyS0", "without a display the serial console is added");
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
    }

    [Fact]
    public async Task A_disk_with_nothing_bootable_fails_to_start_with_the_vmm_s_reason()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        string image = DiskImage("empty", new Dictionary<string, string> { ["/etc/hostname"] = "vm\n" });
        var vm = await CreateDiskBootAsync(client, "nothing-to-boot", image);

        var response = await client.PostAsync($"/api/v1/vms/{vm.Id}/start", null, Token);

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await response.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("exited at start (code 1)")
            .And.Contain("disk 0: no partition with a boot configuration");
        app.Services.GetRequiredService<IVmRuntime>().GetState(vm.Id).Should().Be(VmPowerState.Stopped);
    }
}
