using Platform.Engine.Machine;
using Platform.Web.Data;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Services.Supervisor;

public sealed class VmmCommandLineTests : IDisposable
{
    private readonly string _kernel = Path.GetTempFileName();

    public void Dispose() => File.Delete(_kernel);

    private IReadOnlyList<string> Build(bool display, InputKind? input) => VmmCommandLine.Build(
        new VirtualMachine { Name = "cli", KernelPath = _kernel, DisplayEnabled = display, Input = input },
        _ => throw new InvalidOperationException("no library images here"), "/run/vm");

    /// <summary>The value after <paramref name="option"/>, or null when the option is absent.</summary>
    private static string? ValueOf(IReadOnlyList<string> args, string option)
    {
        int at = args.ToList().IndexOf(option);
        return at < 0 ? null : args[at + 1];
    }

    [Theory]
    [InlineData(InputKind.Virtio, "virtio")]
    [InlineData(InputKind.Ps2, "ps2")]
    [InlineData(null, "virtio")] // a row stored before the setting existed: what platform-vmm did then
    public void A_vm_with_a_display_says_which_input_devices_it_has(InputKind? input, string expected)
    {
        var args = Build(display: true, input);
        ValueOf(args, "--display").Should().Be("std");
        ValueOf(args, "--input").Should().Be(expected);
        args.Count(a => a == "--input").Should().Be(1);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(InputKind.Ps2)]
    public void A_vm_without_a_display_never_passes_input_which_platform_vmm_would_refuse(InputKind? input)
    {
        var args = Build(display: false, input);
        ValueOf(args, "--display").Should().Be("none");
        args.Should().NotContain("--input");
    }

    [Theory]
    [InlineData(false, null, "console=ttyS0")]
    [InlineData(true, null, null)]
    [InlineData(false, "quiet single", "console=ttyS0 quiet single")]
    [InlineData(true, " quiet ", "quiet")]
    public void A_vm_that_boots_from_its_disk_passes_boot_disk_and_no_kernel(bool display, string? commandLine, string? append)
    {
        var vm = new VirtualMachine
        {
            Name = "disk", BootMode = BootMode.Disk, DisplayEnabled = display, CommandLine = commandLine,
            Disks = [new VmDisk { Position = 0, Path = _kernel, ReadOnly = true }],
        };

        var args = VmmCommandLine.Build(vm, _ => throw new InvalidOperationException("no library images here"), "/run/vm");

        ValueOf(args, "--boot").Should().Be("disk");
        ValueOf(args, "--disk").Should().Be(_kernel + ",ro");
        args.Should().NotContain("--kernel").And.NotContain("--initrd");
        ValueOf(args, "--append").Should().Be(append, "the VM's arguments are added to the disk's, after the serial console when there is no display");
    }

    [Fact]
    public void A_vm_that_boots_from_a_disk_it_does_not_have_is_refused_with_a_reason()
    {
        var vm = new VirtualMachine { Name = "diskless", BootMode = BootMode.Disk };

        var act = () => VmmCommandLine.Build(vm, _ => "", "/run/vm");

        act.Should().Throw<Platform.Web.Services.Runtime.VmRuntimeException>().WithMessage("The VM boots from its first disk but has no disk: edit it and add one.");
    }

    [Fact]
    public void Library_disks_pass_their_format_and_a_linked_clone_passes_its_overlay_as_qcow2()
    {
        string baseFile = Path.GetTempFileName();
        try
        {
            var raw = new ImageFile { FileName = "raw.img", Sha256 = "", Kind = ImageKind.Disk, Format = ImageFormat.Raw };
            var cloud = new ImageFile { FileName = "cloud.qcow2", Sha256 = "", Kind = ImageKind.Disk, Format = ImageFormat.Qcow2 };
            var old = new ImageFile { FileName = "old.img", Sha256 = "", Kind = ImageKind.Disk };
            var vm = new VirtualMachine
            {
                Name = "formats", KernelPath = _kernel,
                Disks =
                [
                    new VmDisk { Position = 0, Image = raw, ImageId = raw.Id },
                    new VmDisk { Position = 1, Image = cloud, ImageId = cloud.Id, Cache = DiskCacheMode.None },
                    new VmDisk { Position = 2, Image = old, ImageId = old.Id },
                    new VmDisk { Position = 3, Image = cloud, ImageId = cloud.Id, LinkedClone = true },
                    new VmDisk { Position = 4, Path = _kernel },
                ],
            };

            var args = VmmCommandLine.Build(vm, _ => baseFile, "/run/vm", disk => $"/data/disks/{disk.Position}.qcow2");

            args.Where((a, i) => i > 0 && args[i - 1] == "--disk").Should().Equal(
                $"{baseFile},format=raw",
                $"{baseFile},cache=none,format=qcow2",
                baseFile, // stored before formats were recorded: platform-vmm detects it
                "/data/disks/3.qcow2,format=qcow2",
                _kernel);
            var noClones = () => VmmCommandLine.Build(vm, _ => baseFile, "/run/vm");
            noClones.Should().Throw<Platform.Web.Services.Runtime.VmRuntimeException>().WithMessage("*linked clone*");
        }
        finally
        {
            File.Delete(baseFile);
        }
    }
}
