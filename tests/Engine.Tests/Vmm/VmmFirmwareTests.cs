using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Vmm;

// platform-vmm --firmware bios as a user runs it: a BIOS it cannot run is a start failure that says why.
public sealed class VmmFirmwareTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_missing_BIOS_image_fails_the_start_with_exit_code_1()
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--bios", "/nonexistent/bios.bin", "--display", "none");

        code.Should().Be(1);
        stderr.Should().Contain("The BIOS image /nonexistent/bios.bin does not exist.");
    }

    [Fact]
    public async Task A_corrupt_BIOS_image_fails_the_start_with_exit_code_1()
    {
        string bios = Path.GetTempFileName();
        await File.WriteAllTextAsync(bios, "<html>404 Not Found</html>", TestContext.Current.CancellationToken);
        try
        {
            var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--bios", bios, "--display", "none");

            code.Should().Be(1);
            stderr.Should().Contain($"The BIOS image {bios} is 26 bytes; a BIOS image is a whole number of 64 KiB");
        }
        finally
        {
            File.Delete(bios);
        }
    }

    [Fact]
    public async Task A_kernel_with_firmware_is_a_usage_error_naming_both()
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--kernel", "/k");

        code.Should().Be(64);
        stderr.Should().Contain("--kernel (kernel): must be left out: with firmware bios the BIOS boots from the disks");
    }
}
