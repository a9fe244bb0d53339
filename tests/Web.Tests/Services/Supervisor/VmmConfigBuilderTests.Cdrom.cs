using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Services.Supervisor;

/// <summary>A firmware VM with a CD-ROM drive becomes vm.json's firmware, cdrom and boot_order, and nothing the VMM would refuse.</summary>
public sealed class VmmConfigBuilderCdromTests : IDisposable
{
    private readonly string _images = Directory.CreateTempSubdirectory("cd-builder-").FullName;

    public void Dispose() => Directory.Delete(_images, recursive: true);

    private string PathOf(ImageFile image) => Path.Combine(_images, image.FileName);

    [Fact]
    public void A_firmware_vm_gets_the_bios_its_drive_with_the_library_iso_and_its_boot_order_and_no_kernel_or_command_line()
    {
        var iso = new ImageFile { Kind = ImageKind.Iso, FileName = "netinst.iso", Sha256 = new string('0', 64) };
        File.WriteAllBytes(PathOf(iso), Infrastructure.IsoImages.Make("NETINST"));
        var vm = new VirtualMachine
        {
            Name = "installer", BootMode = BootMode.Firmware, HasCdrom = true, CdromImageId = iso.Id, CdromImage = iso,
            BootOrder = [BootDevice.Cdrom], CommandLine = "left over from a kernel boot", DisplayEnabled = false, Input = null,
        };

        var config = VmmConfigBuilder.Build(vm, PathOf, "/run/vm");

        (config.Firmware, config.Kernel, config.CommandLine, config.Cdrom).Should().Be((FirmwareKind.Bios, (string?)null, (string?)null, new CdromConfig(PathOf(iso))));
        config.BootOrder.Should().Equal(BootDevice.Cdrom);
        VmConfigValidator.Validate(config).Should().BeEmpty();
    }

    [Fact]
    public void An_empty_drive_is_a_drive_without_a_path_and_a_vanished_iso_stops_the_start_with_its_name()
    {
        var empty = new VirtualMachine { Name = "empty-drive", BootMode = BootMode.Firmware, HasCdrom = true, DisplayEnabled = false, Input = null };
        VmmConfigBuilder.Build(empty, PathOf, "/run/vm").Cdrom.Should().Be(new CdromConfig());

        var gone = new ImageFile { Kind = ImageKind.Iso, FileName = "gone.iso", Sha256 = new string('0', 64) };
        var vm = new VirtualMachine { Name = "gone", BootMode = BootMode.Firmware, HasCdrom = true, CdromImageId = gone.Id, CdromImage = gone };
        var start = () => VmmConfigBuilder.Build(vm, PathOf, "/run/vm");
        start.Should().Throw<VmRuntimeException>().WithMessage("*ISO image file*gone.iso does not exist*");

        var nothing = new VirtualMachine { Name = "nothing", BootMode = BootMode.Firmware };
        var refused = () => VmmConfigBuilder.Build(nothing, PathOf, "/run/vm");
        refused.Should().Throw<VmRuntimeException>().WithMessage("*neither a disk nor a CD-ROM drive*");
    }
}
